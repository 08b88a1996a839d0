"""The LitServe server of a checkpoint: `/predict` (LitServe), the page at `/`, and every error as
`{"error": "one line"}` JSON, never a traceback."""

import json
import multiprocessing as mp
from importlib.resources import files

import litserve as ls
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException
from typing_extensions import override

from rnn_lightning.serving.api import DigitReaderAPI
from rnn_lightning.serving.uploads import UploadsAsJson


def page() -> str:
    """The drawing page, shipped in the package: HTML, CSS and JavaScript in one file, nothing fetched."""
    return files("rnn_lightning").joinpath("static/index.html").read_text(encoding="utf-8")


async def error_as_json(request, error: HTTPException) -> JSONResponse:
    """LitServe turns an error it did not expect into a bare 500; a body that is not JSON is the one
    such error a client causes (its `request.json()` fails), so that one becomes a 400."""
    status, message = error.status_code, str(error.detail)
    if status == 500 and isinstance(error.__cause__, (json.JSONDecodeError, UnicodeDecodeError)):
        status, message = 400, f"the body is not valid JSON ({error.__cause__})".splitlines()[0]
    return JSONResponse({"error": message}, status_code=status, headers=getattr(error, "headers", None))


class DirectQueueLitServer(ls.LitServer):
    """LitServer whose request queue is a plain `multiprocessing.Queue` rather than a `Manager().Queue()`.

    A manager queue is a proxy: every `put` by the HTTP process and every `get` by the model's worker (one
    every millisecond while it fills a batch) is a round trip through LitServe's manager process, which
    alone took a quarter of a core under load here. A plain queue is a pipe between the two processes.
    """

    @override
    def _init_manager(self, num_api_servers: int):
        manager = super()._init_manager(num_api_servers)
        for path in self.litapi_request_queues:
            self.litapi_request_queues[path] = mp.get_context("spawn").Queue()
        return manager


def build_server(
    checkpoint_path: str,
    accelerator: str = "auto",
    workers: int = 1,
    max_batch_size: int = 16,
    batch_timeout: float = 0.002,
    threads: int = 1,
    max_upload_bytes: int = 4 * 1024 * 1024,
) -> ls.LitServer:
    """A LitServer ready to `run`; the checkpoint is loaded in each worker's `setup`."""
    api = DigitReaderAPI(checkpoint_path, threads, max_batch_size, batch_timeout)
    server = DirectQueueLitServer(
        api,
        accelerator=accelerator,
        workers_per_device=workers,
        fast_queue=True,  # answers go back over ZeroMQ, not through the manager process either
        middlewares=[(UploadsAsJson, {"max_bytes": max_upload_bytes})],
    )
    html = page()
    # LitServe answers `/` with "litserve running"; the page takes its place (`/health` stays).
    server.app.router.routes = [r for r in server.app.router.routes if getattr(r, "path", None) != "/"]
    server.app.add_api_route("/", lambda: HTMLResponse(html), methods=["GET"], include_in_schema=False)
    server.app.add_exception_handler(HTTPException, error_as_json)
    return server
