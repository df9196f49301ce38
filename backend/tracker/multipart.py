"""Receiving multipart/form-data as a stream, straight to temporary files, with hard limits.

Nothing here trusts what the client declares: not Content-Length (the body is counted as it
arrives and refused the moment a file passes the cap), not a part's Content-Type (the type is
decided later from the bytes), not the file name (kept as data only). The SHA-256 is computed
while the bytes go by, so the file is read from the network exactly once.

Shared by every endpoint that takes files (a new issue with its files, files added to an
issue): it knows nothing of issues or attachments, only the upload settings. Files are received
under `upload_dir(settings.storage_dir)`, on the same filesystem as the stored files, so keeping
one is an atomic rename (attachments.storage); the worker sweeps what a dead process left there.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from tracker.config import Settings
from tracker.errors import BadRequest, PayloadTooLarge, TrackerError, Unprocessable

FILE_FIELD = "file"
MAX_FIELDS = 50
MAX_FIELD_BYTES = 64 * 1024
_MAX_PART_HEADERS = 8
_MAX_HEADER_BYTES = 8 * 1024


@dataclass
class ReceivedFile:
    """One uploaded file, complete on disk in the temporary folder."""

    path: Path
    filename: str  # as the client sent it; normalised before it is stored
    size: int
    sha256: str


@dataclass
class ReceivedForm:
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[ReceivedFile] = field(default_factory=list)

    def discard(self) -> None:
        """Remove the temporary files that were not moved into place."""
        for received in self.files:
            received.path.unlink(missing_ok=True)


def upload_dir(storage_dir: Path) -> Path:
    """Where files are received before they are kept (and removed unless they are)."""
    return storage_dir / "tmp"


def remove_abandoned_uploads(storage_dir: Path, older_than_seconds: float) -> list[Path]:
    """Remove files a process that died left in upload_dir() (a live upload keeps writing, so
    its file is never that old); the removed paths."""
    folder = upload_dir(storage_dir)
    if not folder.is_dir():
        return []
    cutoff = time.time() - older_than_seconds
    removed = []
    for entry in folder.iterdir():
        try:
            old = entry.lstat().st_mtime <= cutoff
        except FileNotFoundError:
            continue
        if old and entry.is_file() and not entry.is_symlink():
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def new_upload_path(storage_dir: Path) -> Path:
    """A fresh name in upload_dir(), which is made if need be."""
    directory = upload_dir(storage_dir)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / uuid.uuid4().hex


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.3g} MB" if n >= 1024 * 1024 else f"{n} bytes"


def is_multipart(content_type: str | None) -> bool:
    media_type, _ = parse_options_header(content_type or "")
    return bool(media_type == b"multipart/form-data")


def boundary_of(content_type: str | None) -> bytes:
    media_type, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise Unprocessable(
            "Send files as multipart/form-data with one `file` part per file",
            code="multipart_required",
        )
    return boundary


class _Receiver:
    """The parser's callbacks: one part at a time into a temporary file or a small buffer."""

    def __init__(self, storage_dir: Path, max_file_bytes: int, max_files: int) -> None:
        self.storage_dir = storage_dir
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.form = ReceivedForm()
        self.ended = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._filename: str | None = None
        self._file: IO[bytes] | None = None
        self._path: Path | None = None
        self._hash = hashlib.sha256()
        self._size = 0
        self._value = bytearray()
        self._field_count = 0

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda d, s, e: self._header_name.extend(d[s:e]),
            "on_header_value": lambda d, s, e: self._header_value.extend(d[s:e]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._name, self._filename = "", None
        self._size = 0
        self._value = bytearray()

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).lower().strip()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        disposition, params = parse_options_header(
            self._headers.get(b"content-disposition", b"").decode("latin-1")
        )
        if disposition != b"form-data" or b"name" not in params:
            raise BadRequest("A multipart part has no form-data name", code="malformed_multipart")
        self._name = _decode(params[b"name"])
        # A `file` part is a file even when a client leaves out its name.
        if b"filename" not in params and self._name != FILE_FIELD:
            self._field_count += 1
            if self._field_count > MAX_FIELDS:
                raise Unprocessable("Too many form fields", code="too_many_fields")
            return
        if self._name != FILE_FIELD:
            raise Unprocessable(
                f"Files go in `{FILE_FIELD}` parts, not `{self._name}`", code="unexpected_file"
            )
        self._filename = _decode(params.get(b"filename", b""))
        if len(self.form.files) >= self.max_files:
            raise Unprocessable(
                f"At most {self.max_files} files can be attached to an issue",
                code="too_many_files",
                max_files=self.max_files,
            )
        self._hash = hashlib.sha256()
        self._path = new_upload_path(self.storage_dir)
        # Exclusive create, owner-only: a temp name is never reused or readable by others.
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._size += end - start
        if self._file is None:
            if self._size > MAX_FIELD_BYTES:
                raise Unprocessable(
                    f"The form field `{self._name}` is too long", code="field_too_long"
                )
            self._value.extend(data[start:end])
            return
        if self._size > self.max_file_bytes:
            raise PayloadTooLarge(
                f"{self._filename or 'The file'} is larger than the "
                f"{_megabytes(self.max_file_bytes)} limit",
                code="file_too_large",
                max_bytes=self.max_file_bytes,
            )
        chunk = data[start:end]
        self._hash.update(chunk)
        self._file.write(chunk)

    def _part_end(self) -> None:
        if self._file is None:
            self.form.fields.setdefault(self._name, []).append(
                bytes(self._value).decode("utf-8", errors="replace")
            )
            return
        assert self._path is not None
        self._file.close()
        self._file = None
        received = ReceivedFile(
            self._path, self._filename or "", self._size, self._hash.hexdigest()
        )
        self._path = None
        if received.size == 0 and not received.filename:
            received.path.unlink()  # a form's file input left empty: no file at all
            return
        self.form.files.append(received)
        if received.size == 0:
            raise Unprocessable(f"{received.filename} is empty", code="empty_file")

    def _end(self) -> None:
        self.ended = True

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._path is not None:
            self._path.unlink(missing_ok=True)
            self._path = None
        self.form.discard()


def _decode(value: bytes) -> str:
    # Header values arrive as latin-1 code points; browsers send the name's UTF-8 bytes.
    return value.decode("utf-8", errors="replace")


async def receive_form(
    stream: AsyncIterator[bytes],
    content_type: str | None,
    *,
    storage_dir: Path,
    max_file_bytes: int,
    max_files: int,
) -> ReceivedForm:
    """Read a multipart body into temporary files; the caller must `discard()` the result."""
    boundary = boundary_of(content_type)
    receiver = _Receiver(storage_dir, max_file_bytes, max_files)
    try:
        parser = MultipartParser(
            boundary,
            receiver.callbacks(),  # type: ignore[arg-type]
            max_header_count=_MAX_PART_HEADERS,
            max_header_size=_MAX_HEADER_BYTES,
        )
        async for chunk in stream:
            parser.write(chunk)
            if receiver.ended:
                break  # whatever follows the closing boundary is never read
        if not receiver.ended:
            raise BadRequest(
                "The upload ended before the multipart body was complete",
                code="incomplete_body",
            )
    except TrackerError:
        receiver.abort()
        raise
    except FormParserError as exc:
        receiver.abort()
        raise BadRequest(f"Malformed multipart body: {exc}", code="malformed_multipart") from None
    except BaseException:
        receiver.abort()
        raise
    return receiver.form


async def receive_request_form(request: Request, settings: Settings) -> ReceivedForm:
    """A request's multipart body under the upload settings; the caller must `discard()` it.

    For endpoints that take files: POST /issues/{id}/attachments and POST /issues.
    """
    try:
        return await receive_form(
            request.stream(),
            request.headers.get("content-type"),
            storage_dir=settings.storage_dir,
            max_file_bytes=settings.max_upload_bytes,
            max_files=settings.max_attachments_per_issue,
        )
    except ClientDisconnect:
        raise BadRequest("The upload was interrupted", code="upload_interrupted") from None
