"""Sending a stored file: the headers every download carries, conditional GETs and byte ranges.

The same code serves a file from a folder or from a bucket, streamed in chunks, so every
backend answers with the same headers, the same 206 for a `Range` and the same 404 for a file
that has gone missing. One range per request: a request for several gets the whole file (RFC
9110 lets a server ignore `Range`), as does a malformed one.
"""

from __future__ import annotations

import re
from email.utils import format_datetime

from fastapi import Request, Response, status
from fastapi.responses import StreamingResponse

from tracker.attachments import storage
from tracker.attachments.service import FileToServe
from tracker.errors import NotFound, ServiceUnavailable, TrackerError

_DIGITS = re.compile(r"[0-9]{1,19}")


class RangeNotSatisfiable(TrackerError):
    status, code = 416, "range_not_satisfiable"


def _headers(file: FileToServe) -> dict[str, str]:
    return {
        "ETag": file.etag,
        "Last-Modified": format_datetime(file.modified, usegmt=True),
        "Accept-Ranges": "bytes",
        "Content-Disposition": file.disposition,
        "X-Content-Type-Options": "nosniff",
        # Even if a browser rendered the file as a page, it would run sandboxed: no scripts, no
        # same-origin access to the tracker, nothing loaded from elsewhere.
        "Content-Security-Policy": "sandbox; default-src 'none'",
        # Always revalidated (cheap with the ETag), so a revoked permission applies at once.
        "Cache-Control": "private, no-cache",
        "Cross-Origin-Resource-Policy": "same-origin",
    }


def parse_range(spec: str, size: int) -> tuple[int, int] | None:
    """The one byte range `spec` asks of `size` bytes as (start, end exclusive); None to send
    the whole file; RangeNotSatisfiable when it starts past the end."""
    units, _, ranges = spec.partition("=")
    if units.strip().lower() != "bytes" or "," in ranges:
        return None
    first, dash, last = (part.strip() for part in ranges.partition("-"))
    if not dash or (first and not _DIGITS.fullmatch(first)):
        return None
    if last and not _DIGITS.fullmatch(last):
        return None
    if not first:  # the last N bytes
        if not last:
            return None
        if int(last) == 0:
            raise _unsatisfiable(size)
        return max(0, size - int(last)), size
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise _unsatisfiable(size)
    return start, min(int(last) + 1 if last else size, size)


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"The file has {size} bytes; the range asked for none of them",
        headers={"Content-Range": f"bytes */{size}"},
    )


def _missing() -> NotFound:
    return NotFound("The file of this attachment is missing", code="file_missing")


async def serve(request: Request, store: storage.ObjectStore, file: FileToServe) -> Response:
    headers = _headers(file)
    if file.etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    wanted = request.headers.get("range")
    # If-Range: the range only if the client's copy is this very file, else all of it.
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range not in (file.etag, headers["Last-Modified"]):
        wanted = None
    try:
        byte_range = None
        if wanted:
            info = await store.stat(file.key)
            if info is None:
                raise _missing()
            byte_range = parse_range(wanted, info.size)
        body = await store.open(file.key, byte_range)
    except storage.ObjectMissing:
        raise _missing() from None
    except storage.StorageError as exc:
        raise ServiceUnavailable(
            "The attachment storage did not answer; try again", code="storage_unavailable"
        ) from exc
    headers["Content-Length"] = str(body.end - body.start)
    code = status.HTTP_200_OK
    if byte_range is not None:
        code = status.HTTP_206_PARTIAL_CONTENT
        headers["Content-Range"] = f"bytes {body.start}-{body.end - 1}/{body.size}"
    return StreamingResponse(
        body.chunks, status_code=code, headers=headers, media_type=file.content_type
    )
