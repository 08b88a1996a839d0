"""The HTTP app of `serve` on FastAPI: the page at `/`, `/health` and `POST /predict`, its contract at
`/openapi.json` (`contract.py`) shown at `/docs` and `/redoc` from files on this machine. Every server
process builds its own, with its own model and batcher. Errors are `{"error": "one line"}`: 400 for input
that is not a digit image, 413 over the upload limit, 401 without the key `RNN_LIGHTNING_API_KEY` sets;
500 when the model fails, its traceback logged on the server's stderr."""

import hmac
import json
import logging
import os
from contextlib import asynccontextmanager
from dataclasses import asdict
from functools import partial
from importlib.resources import files
from pathlib import Path

import numpy as np
import orjson
import torch
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi_offline import FastAPIOffline
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from torch import Tensor

from rnn_lightning import __version__
from rnn_lightning.data.image_files import image_from_bytes
from rnn_lightning.errors import UserInputError, first_line
from rnn_lightning.garbage_collector import freeze_server_startup
from rnn_lightning.model.reading import NOT_IN_ORDER, DigitReader
from rnn_lightning.serving.batcher import DynamicBatcher
from rnn_lightning.serving.bodies import error, limited_body
from rnn_lightning.serving.contract import HEALTH_RESPONSES, PREDICT_OPENAPI, PREDICT_RESPONSES, PixelsRequest
from rnn_lightning.serving.corrections import corrections_router
from rnn_lightning.serving.settings import ServeSettings

SERVER_LOG = logging.getLogger("uvicorn.error")  # uvicorn's own log of the server's errors, on stderr
API_KEY_VARIABLE = "RNN_LIGHTNING_API_KEY"
SETTINGS_VARIABLE = "RNN_LIGHTNING_SERVE_SETTINGS"  # `serve`'s settings, as every server process reads them


def settings_to_environment(checkpoint: str, settings: ServeSettings) -> None:
    """What `serve` hands every server process it starts (uvicorn starts each afresh)."""
    os.environ[SETTINGS_VARIABLE] = json.dumps({"checkpoint": checkpoint, **asdict(settings)})


def app_from_environment() -> FastAPI:
    """The app factory that uvicorn calls in every server process."""
    values = json.loads(os.environ[SETTINGS_VARIABLE])
    return create_app(values.pop("checkpoint"), ServeSettings(**values))


def answer_requests(reader: DigitReader, items: list[tuple[Tensor, bool]]) -> list[bytes]:
    """The batcher's work: a batch of (image, whether `inside` is wanted)."""
    return answer_batch(reader, [image for image, _ in items], [inside for _, inside in items])


def answer_batch(reader: DigitReader, images: list[Tensor], inside: list[bool] | None = None) -> list[bytes]:
    """One pass of the network over a batch; each answer as JSON bytes (`contract.Answer`), by orjson
    straight from numpy. The internals, from the same pass, only for the images whose `inside` is true."""
    wanted = [row for row, wants in enumerate(inside or ()) if wants]
    reading = reader.read(torch.stack(images), wanted)
    probabilities = reading.probabilities.cpu().numpy()
    steps = None if reading.logits_by_row is None else reading.probabilities_by_row.cpu().numpy()
    answers = []
    for row, image in enumerate(images):
        digit = int(probabilities[row].argmax())
        answer = {"digit": digit, "probability": probabilities[row, digit], "input": image.numpy()}
        answer |= {"probabilities": probabilities[row], "steps": None if steps is None else steps[row]}
        answer |= {"steps_note": NOT_IN_ORDER} if steps is None else {}
        answers.append(answer)
    if wanted:
        add_inside(reading.inside, [answers[row] for row in wanted])
    return [orjson.dumps(answer, option=orjson.OPT_SERIALIZE_NUMPY) for answer in answers]


def add_inside(found, answers: list[dict]) -> None:
    """Adds `inside` to each answer (`found`'s rows, in order): every layer's gates and states after each
    row (top layer last) and each top unit's contribution to the answered digit's logit; null with a note
    for a bidirectional model (`found` None)."""
    if found is None:
        for answer in answers:
            answer |= {"inside": None, "inside_note": NOT_IN_ORDER}
        return
    layers = []
    for layer in found.layers:  # to numpy once for the batch; each answer takes its own row
        layers.append({"gates": {name: gate.cpu().numpy() for name, gate in layer.gates.items()}})
        if layer.cell_state is not None:
            layers[-1]["cell_state"] = layer.cell_state.cpu().numpy()
        layers[-1]["hidden"] = layer.hidden.cpu().numpy()
    contribution = found.contribution.cpu().numpy()
    for row, answer in enumerate(answers):
        answer["inside"] = {
            "cell": found.cell,
            "units": found.units,
            "layers": [{key: own_row(value, row) for key, value in layer.items()} for layer in layers],
            "contribution": contribution[row],
        }


def own_row(value, row: int):
    """One image's part of a batch's array, or of a dict of them (the gates)."""
    return {name: array[row] for name, array in value.items()} if isinstance(value, dict) else value[row]


def inside_wanted(request: Request) -> bool:
    """`?inside=true` (or 1); absent, false or 0: the plain answer. Anything else is a `UserInputError`."""
    if not request.scope.get("query_string"):
        return False
    value = request.query_params.get("inside")
    if value is None or value.lower() in ("false", "0"):
        return False
    if value.lower() in ("true", "1"):
        return True
    raise UserInputError(f"inside must be true or false, not {value[:40]!r}")


async def request_image(request: Request, limit: int) -> Tensor:
    """JSON pixels, a multipart upload (field `file`) or a raw image file, in MNIST's form."""
    body = await limited_body(request, limit)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        return json_to_image(body)
    if kind == "multipart/form-data":

        async def again() -> dict:  # the body once more, for the form parser
            return {"type": "http.request", "body": body}

        try:
            async with Request(request.scope, again).form() as form:
                upload = form.get("file")
                body = await upload.read() if hasattr(upload, "read") else b""
        except Exception as error:  # the multipart parser says what is wrong with the form
            raise UserInputError(f"the multipart upload cannot be read: {first_line(error)}") from None
        if not body:
            raise UserInputError("the multipart upload has no file (or an empty one) in a field named 'file'")
    return await run_in_threadpool(image_from_bytes, body)  # decoding takes time: off the event loop


def json_to_image(body: bytes) -> Tensor:
    """`{"pixels": 28 rows of 28 numbers 0-255}` (`contract.PixelsRequest`): the page's request."""
    try:
        pixels = PixelsRequest.model_validate_json(body).pixels
    except ValidationError as error:
        problem = error.errors(include_url=False)[0]
        if problem["type"] == "json_invalid":
            raise UserInputError(f"the body is not valid JSON ({first_line(problem['msg'])})") from None
        raise UserInputError(
            'JSON must be {"pixels": 28 rows of 28 numbers from 0 to 255}, or send an image file'
        ) from None
    return torch.from_numpy(np.array(pixels, dtype=np.float32).round().astype(np.uint8))


def create_app(checkpoint: str, settings: ServeSettings | None = None) -> FastAPI:
    """The app; the model is loaded and the batcher started when its server process starts."""
    settings = settings or ServeSettings()
    key = os.environ.get(API_KEY_VARIABLE, "").encode()
    page = files("rnn_lightning.serving").joinpath("page.html").read_text(encoding="utf-8")

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.threads > 0:
            torch.set_num_threads(settings.threads)
        reader = DigitReader(checkpoint, settings.device)
        app.state.classes = reader.network.head.out_features  # what a correction's label may be
        answer = partial(answer_requests, reader)
        batcher = DynamicBatcher(answer, settings.max_batch_size, settings.batch_timeout)
        async with batcher as app.state.batcher:
            freeze_server_startup()  # what start-up built lives as long as the server (garbage_collector.py)
            yield

    # FastAPIOffline: FastAPI with /docs and /redoc reading Swagger UI and ReDoc from its own package,
    # not from a CDN: a server on a closed network shows them too.
    app = FastAPIOffline(
        lifespan=lifespan,
        title="rnn_lightning serve",
        version=__version__,
        summary="An LSTM that reads MNIST digits row by row, answering after every row.",
        swagger_ui_parameters={"validatorUrl": None},  # Swagger UI's badge would ask validator.swagger.io
    )

    def refused(request: Request) -> JSONResponse | None:
        if key and not hmac.compare_digest(request.headers.get("x-api-key", "").encode(), key):
            return error(401, "invalid or missing API key: send it in the X-API-Key header")

    @app.get("/", response_class=HTMLResponse, summary="The page to draw digits on")
    async def index() -> HTMLResponse:
        return HTMLResponse(page)  # public: the page sends the key from its own address (?key=)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> Response:
        return Response(status_code=204)  # no icon, said plainly: a browser asks, a 404 is a console error

    @app.get("/health", response_class=PlainTextResponse, responses=HEALTH_RESPONSES, summary="Ready?")
    async def health(request: Request) -> Response:
        return refused(request) or PlainTextResponse("ok")

    # The answer is orjson's bytes, not `response_model=Answer`: validating and serializing through pydantic
    # would cost about as much as the network (`contract.py`); `responses=` documents it all the same.
    @app.post("/predict", responses=PREDICT_RESPONSES, openapi_extra=PREDICT_OPENAPI, summary="Read a digit")
    async def predict(request: Request) -> Response:
        if answer := refused(request):
            return answer
        try:
            inside = inside_wanted(request)
            image = await request_image(request, settings.max_upload_bytes)
        except UserInputError as bad:
            return error(400, str(bad))
        try:
            return Response(await app.state.batcher.submit((image, inside)), media_type="application/json")
        except Exception as failure:  # the server's fault, never the input's: one line to the client,
            SERVER_LOG.exception("POST /predict answered 500")  # the traceback to the server's stderr
            return error(500, f"the model failed on this image: {first_line(failure)}")

    collect = None if settings.collect is None else Path(settings.collect)
    app.include_router(corrections_router(collect, settings.max_upload_bytes, refused))  # serve --collect

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exception: HTTPException) -> JSONResponse:
        return error(exception.status_code, str(exception.detail))

    return app
