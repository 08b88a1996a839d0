"""`POST /predict?inside=true` in-process (FastAPI's TestClient runs the app's lifespan, which loads the
checkpoint): the internals for each input form, the plain answer unchanged, bad values a one-line 400."""

import json

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from rnn_lightning.model import inside as inside_module
from rnn_lightning.model.reading import DigitReader
from rnn_lightning.serving.app import answer_requests, create_app
from tests.conftest import FEW_STEPS, fit_args, fit_in, make_fake_mnist
from tests.pictures import png_bytes

MODELS = {
    "lstm": (),
    "gru-2-layers": ("--model.cell", "gru", "--model.num_layers", "2", "--model.hidden_size", "8"),
    "rnn-pixels": ("--model.cell", "rnn", "--data.sequence", "pixels", "--model.hidden_size", "8"),
    "bidirectional": ("--model.bidirectional", "true", "--model.hidden_size", "8"),
}
GATES = {"lstm": ["input", "forget", "cell", "output"], "gru": ["reset", "update", "new"], "rnn": []}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """`last.ckpt` of a three-step fit of each model on generated data."""
    found = {}
    for name, overrides in MODELS.items():
        folder = tmp_path_factory.mktemp(name)
        fit_in(folder, *fit_args(make_fake_mnist(folder / "data"), *FEW_STEPS, *overrides))
        found[name] = folder / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    return found


@pytest.fixture(scope="module")
def digit():
    return (
        torch.randint(0, 256, (28, 28), generator=torch.Generator().manual_seed(7)).numpy().astype(np.uint8)
    )


def post(client, form: str, image: np.ndarray, query: str = "?inside=true"):
    if form == "json":
        return client.post(f"/predict{query}", json={"pixels": image.tolist()})
    if form == "multipart":
        return client.post(f"/predict{query}", files={"file": ("d.png", png_bytes(image), "image/png")})
    return client.post(f"/predict{query}", content=png_bytes(image), headers={"Content-Type": "image/png"})


@pytest.mark.parametrize("form", ["json", "multipart", "raw"])
def test_each_input_form_gets_the_lstms_internals(checkpoints, digit, form):
    with TestClient(create_app(str(checkpoints["lstm"]))) as client:
        plain = post(client, form, digit, query="")
        response = post(client, form, digit)
    assert plain.status_code == response.status_code == 200, response.text
    plain, answer = plain.json(), response.json()
    assert "inside" not in plain and "inside_note" not in plain
    assert {key: answer[key] for key in plain} == plain  # the usual answer, with `inside` added
    inside = answer["inside"]
    assert list(inside) == ["cell", "units", "layers", "contribution"]
    assert inside["cell"] == "lstm" and inside["units"] == 128 and len(inside["layers"]) == 1
    layer = inside["layers"][0]
    assert list(layer) == ["gates", "cell_state", "hidden"] and list(layer["gates"]) == GATES["lstm"]
    for values in [*layer["gates"].values(), layer["cell_state"], layer["hidden"]]:
        assert np.asarray(values).shape == (28, 128)
    # what the API says is what the reader computes for the image the model saw
    reader = DigitReader(checkpoints["lstm"])
    image = torch.tensor(answer["input"], dtype=torch.uint8)[None]
    found = reader.read(image, inside=True).inside
    assert found.answer.tolist() == [answer["digit"]]
    np.testing.assert_allclose(layer["hidden"], found.layers[0].hidden[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(
        layer["gates"]["forget"], found.layers[0].gates["forget"][0].numpy(), atol=1e-6
    )
    np.testing.assert_allclose(inside["contribution"], found.contribution[0].numpy(), atol=1e-6)
    # the units' votes and the head's bias make the answered digit's logit: its softmax is the probability
    with torch.inference_mode():
        logits = reader.network(reader.to_sequence(image))[0]
    vote = sum(inside["contribution"]) + float(reader.network.head.bias.detach()[answer["digit"]])
    assert vote == pytest.approx(float(logits[answer["digit"]]), abs=1e-4)
    hidden, c, o = (np.asarray(x) for x in (layer["hidden"], layer["cell_state"], layer["gates"]["output"]))
    np.testing.assert_allclose(hidden, o * np.tanh(c), atol=1e-6)


@pytest.mark.parametrize(
    ("model", "cell", "layers", "units"), [("gru-2-layers", "gru", 2, 8), ("rnn-pixels", "rnn", 1, 8)]
)
def test_gru_and_rnn_report_their_own_gates_top_layer_last(checkpoints, digit, model, cell, layers, units):
    with TestClient(create_app(str(checkpoints[model]))) as client:
        response = post(client, "json", digit, "?inside=1")
    assert response.status_code == 200, response.text
    inside = response.json()["inside"]
    assert (inside["cell"], inside["units"], len(inside["layers"])) == (cell, units, layers)
    for layer in inside["layers"]:
        assert list(layer) == ["gates", "hidden"] and list(layer["gates"]) == GATES[cell]
        assert np.asarray(layer["hidden"]).shape == (28, units)
    top = np.asarray(inside["layers"][-1]["hidden"][-1])
    reader = DigitReader(checkpoints[model])
    weights = reader.network.head.weight[response.json()["digit"]].detach().numpy()
    np.testing.assert_allclose(inside["contribution"], top * weights, atol=1e-6)


def test_a_bidirectional_model_has_no_inside_and_says_why(checkpoints, digit):
    with TestClient(create_app(str(checkpoints["bidirectional"]))) as client:
        answer = post(client, "raw", digit).json()
    assert answer["inside"] is None and "bidirectional" in answer["inside_note"]
    assert answer["steps"] is None


@pytest.mark.parametrize("value", ["maybe", "", "yes please", "2"])
def test_a_bad_value_of_inside_is_a_one_line_400(checkpoints, digit, value):
    with TestClient(create_app(str(checkpoints["lstm"]))) as client:
        response = client.post("/predict", params={"inside": value}, json={"pixels": digit.tolist()})
        assert client.post("/predict?inside=false", json={"pixels": digit.tolist()}).status_code == 200
    assert response.status_code == 400
    message = json.loads(response.text)["error"]
    assert "inside" in message and "\n" not in message


def test_a_batch_runs_the_network_once_and_computes_internals_only_for_those_that_asked(
    checkpoints, digit, monkeypatch
):
    reader = DigitReader(checkpoints["lstm"])
    passes, gates = [], []
    network_pass, gate_work = reader.network.rnn.forward, inside_module._layer
    counted = lambda *args, **kwargs: passes.append(1) or network_pass(*args, **kwargs)  # noqa: E731
    monkeypatch.setattr(reader.network.rnn, "forward", counted)
    monkeypatch.setattr(inside_module, "_layer", lambda *a: gates.append(len(a[1])) or gate_work(*a))
    image = torch.from_numpy(digit)
    answers = [
        json.loads(a) for a in answer_requests(reader, [(image, False), (image, True), (image, False)])
    ]
    assert passes == [1]  # one pass of the LSTM for the batch, the inside one included
    assert gates == [1]  # the gates of the one image that asked
    assert ["inside" in answer for answer in answers] == [False, True, False]
    assert answers[0] == {key: answers[1][key] for key in answers[0]}
