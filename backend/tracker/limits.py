"""Request bodies are capped while they are read, before anything buffers them.

A pure ASGI middleware: a declared `Content-Length` over the cap is answered 413 at once,
without reading a byte; a chunked (or lying) body is counted as it arrives, and the moment it
passes the cap the client gets the 413 and the application sees the client go away, so nothing
downstream ever holds more than the cap. JSON and other bodies get `max_json_body_bytes`;
multipart uploads the most a legitimate upload can need (their files are capped one by one
while streaming as well).
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracker.config import Settings
from tracker.errors import PROBLEM_JSON, problem_body

# Room for the multipart framing and the form's text fields beside the files.
MULTIPART_SLACK = 1024 * 1024


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.json_limit = settings.max_json_body_bytes
        self.upload_limit = (
            settings.max_upload_bytes * settings.max_attachments_per_issue + MULTIPART_SLACK
        )

    def limit_for(self, headers: dict[bytes, bytes]) -> tuple[int, str]:
        content_type = headers.get(b"content-type", b"").lower()
        if content_type.startswith(b"multipart/form-data"):
            return self.upload_limit, "an upload"
        return self.json_limit, "a request body"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"content-length" not in headers and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body: the hot path stays untouched
            return
        limit, what = self.limit_for(headers)
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(receive, send, limit, what)
            return

        received = 0
        refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    await _refuse(receive, send, limit, what, more=message.get("more_body", False))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            # Once the 413 is out, whatever the application answers is dropped.
            if not refused:
                await send(message)

        await self.app(scope, counted_receive, guarded_send)


# After the 413, a little more of the body is read and thrown away before the response ends and
# the connection closes: a client still sending when the socket closes gets a reset that can
# destroy the answer it has not read yet (lingering close, as web servers do it).
LINGER_BYTES = 8 * 1024 * 1024
LINGER_SECONDS = 2.0


async def _refuse(
    receive: Receive, send: Send, limit: int, what: str, *, more: bool = True
) -> None:
    body = json.dumps(
        problem_body(
            413,
            f"{what.capitalize()} may be at most {_megabytes(limit)}",
            "payload_too_large",
            limit_bytes=limit,
        )
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    # The whole answer goes out now; the response is ended (and the socket closed) after the
    # linger.
    await send({"type": "http.response.body", "body": body, "more_body": True})
    if more:
        await _linger(receive)
    await send({"type": "http.response.body", "body": b""})


async def _linger(receive: Receive) -> None:
    discarded = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(LINGER_SECONDS):
            while discarded < LINGER_BYTES:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
                discarded += len(message.get("body", b""))
