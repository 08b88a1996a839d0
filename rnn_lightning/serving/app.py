"""The LitServe server of a checkpoint: `/predict` (LitServe), the page at `/`, and every error as
`{"error": "one line"}` JSON, never a traceback."""

from importlib.resources import files

import litserve as ls
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse
from litserve.callbacks.base import EventTypes
from litserve.server import RegularRequestHandler
from starlette.exceptions import HTTPException
from typing_extensions import override

from rnn_lightning.serving.api import DigitReaderAPI
from rnn_lightning.serving.pipes import AnswerPipes, RequestPipes
from rnn_lightning.serving.uploads import UploadsAsJson


def page() -> str:
    """The drawing page, shipped in the package: HTML, CSS and JavaScript in one file, nothing fetched."""
    return files("rnn_lightning").joinpath("static/index.html").read_text(encoding="utf-8")


async def error_as_json(request, error: HTTPException) -> JSONResponse:
    """Every HTTP error as `{"error": "one line"}`, as the rest of `/predict`'s errors."""
    headers = getattr(error, "headers", None)
    return JSONResponse({"error": str(error.detail)}, status_code=error.status_code, headers=headers)


class RawBodyHandler(RegularRequestHandler):
    """LitServe's handler of `POST /predict`, passing the body's bytes on unparsed: the model worker parses
    them (orjson: 6 µs against `json.loads`'s 27), and bytes cross the pipe in one copy where a
    parsed 28x28 list is pickled number by number. Every body is JSON by now (`UploadsAsJson`)."""

    @override
    async def _prepare_request(self, request: Request, request_type) -> bytes:
        return await request.body()


class PipedLitServer(ls.LitServer):
    """LitServer whose requests and answers go over plain pipes (`pipes.py`) instead of its queues, and
    whose `/predict` hands the worker the request's bytes (`RawBodyHandler`). It registers the one plain
    endpoint this project's API has: no LitServe spec (OpenAI and the like), no streaming."""

    @override
    def _init_manager(self, num_api_servers: int):
        manager = super()._init_manager(num_api_servers)  # the manager still holds LitServe's status
        for path in self.litapi_request_queues:
            self.litapi_request_queues[path] = RequestPipes(num_api_servers)
        self._transport = AnswerPipes(num_api_servers)
        return manager

    @override
    def _register_api_endpoints(self, lit_api: ls.LitAPI, request_type, response_type) -> None:
        self._callback_runner.trigger_event(EventTypes.ON_SERVER_START.value, litserver=self)
        handler = RawBodyHandler(lit_api, self)

        async def predict(request: Request):
            # The API key checked here, not as LitServe's FastAPI dependency: solving one costs FastAPI a
            # throwaway Response and its bookkeeping per request, 16% of an HTTP process in a profile.
            await lit_api.authorize(request.headers.get("x-api-key"))
            return await handler.handle_request(request, Request)

        self.app.add_api_route(lit_api.api_path, predict, methods=["POST"])


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
    server = PipedLitServer(
        api,
        accelerator=accelerator,
        workers_per_device=workers,
        middlewares=[(UploadsAsJson, {"max_bytes": max_upload_bytes})],
    )
    html = page()
    # LitServe answers `/` with "litserve running"; the page takes its place (`/health` stays).
    server.app.router.routes = [r for r in server.app.router.routes if getattr(r, "path", None) != "/"]
    server.app.add_api_route("/", lambda: HTMLResponse(html), methods=["GET"], include_in_schema=False)
    server.app.add_exception_handler(HTTPException, error_as_json)
    return server
