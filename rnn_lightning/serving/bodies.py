"""What every route of `serve` shares: a request's body read under the upload limit, and the one-line
error answer `{"error": ...}`."""

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status)


async def limited_body(request: Request, limit: int) -> bytes:
    """The body, or a 413 `HTTPException` (answered by the app's handler) once it is over `limit` bytes:
    refused by its Content-Length before reading, or while streaming one that did not say."""
    too_large = HTTPException(413, f"the upload is over the {limit:,}-byte limit")
    if int(request.headers.get("content-length") or 0) > limit:
        raise too_large
    body = bytearray()  # grows in place: `bytes +=` would copy the whole body at every chunk
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)
