"""The HTTP side of `/predict`, before LitServe: a size limit, and every upload turned into JSON.

LitServe hands a request to the model's worker as parsed JSON (or a form it cannot send between
processes); this ASGI middleware passes JSON through untouched and wraps a multipart upload (field
`file`) or a raw image body as `{"image": base64}`, so the worker's `decode_request` sees one form.
"""

import base64
import json

from starlette.datastructures import UploadFile
from starlette.requests import Request

PATH = "/predict"


async def send_error(send, status: int, message: str) -> None:
    """A JSON error answer `{"error": "one line"}`."""
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def replay(body: bytes):
    """An ASGI `receive` that hands over `body` once, as if it had just arrived."""
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class UploadsAsJson:
    """ASGI middleware for `POST /predict`: 413 over `max_bytes`, 400 for an empty body, uploads as JSON."""

    def __init__(self, app, max_bytes: int = 4 * 1024 * 1024) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        too_large = f"the upload is over the {self.max_bytes:,}-byte limit"
        declared = headers.get(b"content-length", b"").decode()
        if declared.isdigit() and int(declared) > self.max_bytes:
            await send_error(send, 413, too_large)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await send_error(send, 413, too_large)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if not body:
            await send_error(send, 400, 'the body is empty: send an image file or JSON {"pixels": ...}')
            return
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind == b"application/json":
            await self.app(scope, replay(body), send)
            return
        if kind == b"multipart/form-data":
            try:
                form = await Request(scope, replay(body)).form()
            except Exception as error:  # starlette's parser names what is wrong with the form
                await send_error(send, 400, f"the multipart upload cannot be read: {error}".splitlines()[0])
                return
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                await send_error(send, 400, "the multipart upload has no file in a field named 'file'")
                return
            body = await upload.read()
            await form.close()
            if not body:
                await send_error(send, 400, "the uploaded file is empty")
                return
        payload = json.dumps({"image": base64.b64encode(body).decode()}).encode()
        rest = [(k, v) for k, v in scope["headers"] if k not in (b"content-type", b"content-length")]
        rest += [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await self.app({**scope, "headers": rest}, replay(payload), send)
