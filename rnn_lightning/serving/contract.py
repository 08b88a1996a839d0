"""The HTTP API's contract, as pydantic models: the JSON request, the answer, the error; `/openapi.json` is
built from them (and `/docs` shows it). The JSON request is parsed by its model; the answer is written by
orjson straight from numpy arrays (`app.py`), not through its model, which would cost as much as the
network itself: the model documents it, and the tests check real answers against the schema."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from rnn_lightning.model.inside import GATE_NAMES
from rnn_lightning.model.reading import NOT_IN_ORDER

Pixel = Annotated[float, Field(ge=0, le=255, strict=True)]  # strict: a number, never a string of one
Row = Annotated[list[Pixel], Field(min_length=28, max_length=28)]


class Contract(BaseModel):
    """Keys outside the contract are refused, by the request's parser and by the tests' check of answers."""

    model_config = ConfigDict(extra="forbid")


class PixelsRequest(Contract):
    """The page's request: 28 rows of 28 numbers from 0 to 255, light ink on black as in MNIST, the digit
    already in MNIST's form (fitted into 20x20, centred by its centre of mass). Rounded to whole values."""

    pixels: Annotated[list[Row], Field(min_length=28, max_length=28)]


class LayerInside(Contract):
    """One layer after each row: (28, units) each, row k the value once k + 1 rows are read."""

    gates: dict[str, list[list[float]]] = Field(
        description="the layer's gates by name, in PyTorch's order: "
        + "; ".join(f"{cell}: {', '.join(names) or 'none'}" for cell, names in GATE_NAMES.items())
    )
    cell_state: list[list[float]] | None = Field(None, description="the LSTM's memory c; absent otherwise")
    hidden: list[list[float]] = Field(description="the hidden state h")


class Inside(Contract):
    """The network's internals for this image, from the pass that gave the answer."""

    cell: Literal["lstm", "gru", "rnn"]
    units: int = Field(description="units of the top layer")
    layers: list[LayerInside] = Field(description="every layer, bottom first")
    contribution: list[float] = Field(
        description="each top unit's final hidden value times the head's weight for the answered digit: "
        "with the head's bias, they sum to that digit's logit"
    )


class Answer(Contract):
    """What `POST /predict` answers for an image."""

    digit: int = Field(description="the class read: the most probable one")
    probability: float = Field(description="its softmax probability")
    probabilities: list[float] = Field(description="every class's probability, in class order")
    input: list[list[int]] = Field(description="the 28x28 image the model read, in MNIST's form, 0-255")
    steps: list[list[float]] | None = Field(
        description="(28, classes): the probabilities after each row read; the last row's are the answer's; "
        "null for a bidirectional model"
    )
    steps_note: str | None = Field(None, description=f"only where `steps` is null: {NOT_IN_ORDER}")
    inside: Inside | None = Field(
        None, description="only with `inside=true`: the internals; null for a bidirectional model"
    )
    inside_note: str | None = Field(None, description="only where `inside` is null: why")


class Error(Contract):
    """Every error's body: one line saying what is wrong."""

    error: str


def error_response(description: str) -> dict:
    return {"model": Error, "description": description}


PREDICT_RESPONSES = {
    200: {"model": Answer, "description": "The digit read, its probabilities and the reading by row."},
    400: error_response("The body is not a digit image: bad JSON, a file PIL cannot read, a bad `inside`."),
    401: error_response("`RNN_LIGHTNING_API_KEY` is set on the server and X-API-Key does not match it."),
    413: error_response("The upload is over `serve --max_upload_mb`."),
    500: error_response("The model failed on this image (the server's fault; its log has the traceback)."),
}
HEALTH_RESPONSES = {
    200: {"content": {"text/plain": {"schema": {"type": "string", "const": "ok"}}}, "description": "Ready."},
    401: PREDICT_RESPONSES[401],
}

BINARY = {"type": "string", "format": "binary"}
PREDICT_OPENAPI = {
    "parameters": [
        {
            "name": "inside",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "enum": ["true", "false", "1", "0"], "default": "false"},
            "description": "Also answer the network's gates and states after each row (`inside`), from "
            "the same pass; case is ignored.",
        }
    ],
    "requestBody": {
        "required": True,
        "description": "One image in one of three forms. A file (PNG, JPEG, GIF, BMP, TIFF, WebP...) is "
        "brought to MNIST's form as `predict` reads files: grayscale, light ink on black, fitted into "
        "20x20 and centred by its centre of mass.",
        "content": {
            "application/json": {"schema": PixelsRequest.model_json_schema()},
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": {"file": BINARY}}
            },
            "image/*": {"schema": BINARY},
            "application/octet-stream": {"schema": BINARY},
        },
    },
}


class Counts(Contract):
    """What `GET /corrections` answers: whether corrections are saved and, if so, where and how many
    images each class's subfolder holds (the page shows its buttons only when they are)."""

    collecting: bool = Field(description="whether serve runs with --collect")
    folder: str | None = Field(None, description="serve --collect's folder, on the server")
    counts: list[int] | None = Field(None, description="images in folder/<class>/, in class order")


class Saved(Counts):
    """What `POST /corrections` answers: where the drawing was saved, and the counts after it."""

    saved: str = Field(description="the new file: folder/<label>/<UTC time>-<random>.png")
    label: int = Field(description="the class it was saved as")


NOT_COLLECTING = error_response("serve runs without --collect: corrections are not saved.")
COUNTS_RESPONSES = {200: {"model": Counts, "description": "The counts."}, 401: PREDICT_RESPONSES[401]}
SAVED_RESPONSES = {
    201: {"model": Saved, "description": "Saved, never over another file."},
    400: error_response("A label that is not a class of the model, or a body that is not an image."),
    401: PREDICT_RESPONSES[401],
    404: NOT_COLLECTING,
    413: PREDICT_RESPONSES[413],
}
CORRECTION_OPENAPI = {
    "parameters": [
        {
            "name": "label",
            "in": "query",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
            "description": "The image's true class: 0 to classes - 1 (a digit for MNIST).",
        }
    ],
    "requestBody": {
        "required": True,
        "description": "The image file as drawn (the page sends its canvas as PNG); saved as PNG, "
        "another format re-encoded. Read by `test --data.test_path` and `fit --data.train_folder` as "
        "`predict` reads files.",
        "content": {"image/*": {"schema": BINARY}, "application/octet-stream": {"schema": BINARY}},
    },
}
