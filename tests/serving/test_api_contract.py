"""The API's contract: `/openapi.json` describes `POST /predict` (its three body forms, `inside`, the answer,
the errors), real answers and errors validate against that schema, and `/docs` and `/redoc` come whole
from this server, with no outside address in them."""

import re

import jsonschema
import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from rnn_lightning.model.classifier import SequenceClassifier
from rnn_lightning.serving.app import create_app
from tests.pictures import png_bytes

MODELS = {
    "lstm": {},
    "gru-2-layers": {"cell": "gru", "num_layers": 2, "hidden_size": 8},
    "bidirectional": {"bidirectional": True, "hidden_size": 8},
}


@pytest.fixture(scope="module")
def clients(tmp_path_factory):
    """An app of an untrained model of each kind (the contract does not depend on the weights)."""
    found = {}
    for name, hparams in MODELS.items():
        torch.manual_seed(0)
        model = SequenceClassifier(**hparams)
        path = tmp_path_factory.mktemp(name) / "model.ckpt"
        torch.save({"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}, path)
        found[name] = TestClient(create_app(str(path)))
        found[name].__enter__()
    yield found
    for client in found.values():
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def schema(clients):
    response = clients["lstm"].get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def validator(schema: dict, component: str) -> jsonschema.Draft202012Validator:
    """A JSON Schema validator of one of the document's components (OpenAPI 3.1's schemas are JSON Schema)."""
    return jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{component}", **schema})


def test_the_schema_describes_predict_its_body_forms_inside_and_errors(schema):
    assert schema["openapi"].startswith("3.1")
    predict = schema["paths"]["/predict"]["post"]
    forms = predict["requestBody"]["content"]
    assert {"application/json", "multipart/form-data", "image/*"} <= set(forms)
    assert forms["multipart/form-data"]["schema"]["required"] == ["file"]
    pixels = forms["application/json"]["schema"]["properties"]["pixels"]
    assert (pixels["minItems"], pixels["maxItems"]) == (28, 28)
    assert [p["name"] for p in predict["parameters"]] == ["inside"]
    responses = predict["responses"]
    assert set(responses) == {"200", "400", "401", "413", "500"}
    answer = responses["200"]["content"]["application/json"]["schema"]["$ref"]
    assert answer == "#/components/schemas/Answer"
    for status in ("400", "401", "413", "500"):
        assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert "/health" in schema["paths"]


def post(client, form: str, image: np.ndarray, query: str):
    if form == "json":
        return client.post(f"/predict{query}", json={"pixels": image.tolist()})
    if form == "multipart":
        return client.post(f"/predict{query}", files={"file": ("d.png", png_bytes(image), "image/png")})
    return client.post(f"/predict{query}", content=png_bytes(image), headers={"Content-Type": "image/png"})


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("query", ["", "?inside=true"])
@pytest.mark.parametrize("form", ["json", "multipart", "raw"])
def test_real_answers_validate_against_the_schema(clients, schema, model, query, form):
    image = torch.randint(0, 256, (28, 28), generator=torch.Generator().manual_seed(3)).numpy()
    response = post(clients[model], form, image.astype(np.uint8), query)
    assert response.status_code == 200, response.text
    answer = response.json()
    validator(schema, "Answer").validate(answer)
    assert ("inside" in answer) == bool(query)


def test_the_schema_refuses_what_the_contract_leaves_out(clients, schema):
    image = np.zeros((28, 28), dtype=np.uint8)
    answer = clients["lstm"].post("/predict?inside=true", json={"pixels": image.tolist()}).json()
    check = validator(schema, "Answer")
    for broken in (
        {**answer, "extra": 1},
        {key: value for key, value in answer.items() if key != "digit"},
        {**answer, "inside": {**answer["inside"], "cell": "transformer"}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            check.validate(broken)


def test_errors_validate_against_the_schema(clients, schema):
    response = clients["lstm"].post("/predict", json={"pixels": [[0] * 28] * 27})
    assert response.status_code == 400
    validator(schema, "Error").validate(response.json())


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_and_their_assets_come_from_this_server(clients, page):
    client = clients["lstm"]
    response = client.get(page)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    addresses = re.findall(r"""(?:src|href)=["']([^"']+)["']""", response.text)
    addresses += re.findall(r"""url: ?["']([^"']+)["']""", response.text)  # Swagger UI's spec address
    assert addresses and not [a for a in addresses if re.match(r"\w+:", a)]  # no https://, no //cdn
    assert not re.search(r"""["']//""", response.text)
    for address in addresses:
        assert client.get(address).status_code == 200, address
