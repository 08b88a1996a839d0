"""`serve --collect DIR`: the page's "Wrong? It is a ..." buttons send the drawing and its true class to
`POST /corrections?label=N`, saved as `DIR/<N>/<new name>.png`: a labelled folder that
`test --data.test_path DIR` and `fit --data.train_folder DIR` read. `GET /corrections` answers how many
each class has. Without `--collect`, GET says so and POST is 404; behind the API key when one is set."""

import io
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from PIL import Image
from starlette.concurrency import run_in_threadpool

from rnn_lightning.data.image_files import IMAGE_SUFFIXES, image_from_bytes
from rnn_lightning.errors import UserInputError
from rnn_lightning.serving.bodies import error, limited_body
from rnn_lightning.serving.contract import CORRECTION_OPENAPI, COUNTS_RESPONSES, SAVED_RESPONSES

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NOT_COLLECTING = "corrections are not saved: start serve with --collect DIR"


def label_of(value: str | None, classes: int) -> int:
    """The `label` query parameter as a class index; `UserInputError` for anything else."""
    if value is None or not value.strip().isdigit() or int(value) >= classes:
        shown = "none" if value is None else repr(value[:40])
        raise UserInputError(f"label must be a class of the model, 0 to {classes - 1}, not {shown}")
    return int(value)


def as_png(body: bytes) -> bytes:
    """The image file's bytes as PNG: a PNG as it came (the page's drawing), another format re-encoded;
    `UserInputError` for what `/predict` would refuse (empty, undecodable, absurd dimensions)."""
    image_from_bytes(body)
    if body.startswith(PNG_SIGNATURE):
        return body
    with Image.open(io.BytesIO(body)) as opened:
        encoded = io.BytesIO()
        opened.save(encoded, "PNG")
        return encoded.getvalue()


def save_correction(folder: Path, label: int, png: bytes) -> Path:
    """Writes `png` to `folder/<label>/` under a new name, never over another file (exclusive create)."""
    target = folder / str(label)
    target.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = target / f"{stamp}-{uuid.uuid4().hex[:12]}.png"
    with path.open("xb") as file:
        file.write(png)
    return path


def counts(folder: Path, classes: int) -> list[int]:
    """How many images each class's folder holds (0 for one not made yet)."""
    found = []
    for label in range(classes):
        target = folder / str(label)
        images = target.iterdir() if target.is_dir() else ()
        found.append(sum(1 for p in images if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES))
    return found


def corrections_router(
    folder: Path | None, limit: int, refused: Callable[[Request], Response | None]
) -> APIRouter:
    """The two routes; `folder` None: no `--collect`. The model's class count is the app's
    `state.classes`, set when the model is loaded; bodies over `limit` bytes are 413, as `/predict`'s."""
    router = APIRouter()

    @router.get("/corrections", responses=COUNTS_RESPONSES, summary="How many corrections each class has")
    async def count_corrections(request: Request) -> Response:
        if folder is None:  # an answer, not a 404: the page asks on every load (a 404 is a console error)
            return JSONResponse({"collecting": False})
        if answer := refused(request):
            return answer
        found = await run_in_threadpool(counts, folder, request.app.state.classes)
        return JSONResponse({"collecting": True, "folder": str(folder), "counts": found})

    @router.post(
        "/corrections", responses=SAVED_RESPONSES, openapi_extra=CORRECTION_OPENAPI, summary="Save one"
    )
    async def add_correction(request: Request) -> Response:
        if folder is None:
            return error(404, NOT_COLLECTING)
        if answer := refused(request):
            return answer
        classes = request.app.state.classes
        try:
            label = label_of(request.query_params.get("label"), classes)
            png = await run_in_threadpool(as_png, await limited_body(request, limit))
        except UserInputError as bad:
            return error(400, str(bad))
        path = await run_in_threadpool(save_correction, folder, label, png)
        found = await run_in_threadpool(counts, folder, classes)
        saved = {"saved": str(path), "label": label}
        return JSONResponse({"collecting": True, "folder": str(folder), "counts": found, **saved}, 201)

    return router
