"""Attachment test helpers: real image bytes, multipart bodies, and what is stored.

`storage` runs a test once against each backend: the folder (`file`) and a real S3-compatible
bucket (`s3`, SeaweedFS). The app serves the test from that store, and the test looks at what is
kept through the same interface the app uses, by key.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from tests.storage_server import ObjectServer
from tracker.attachments.service import IssueFilesInStore
from tracker.attachments.storage import ISSUES_PREFIX, ObjectStore, issue_prefix
from tracker.auth.models import User
from tracker.config import Settings
from tracker.multipart import upload_dir

Upload = tuple[str, bytes] | tuple[str, bytes, str]


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "leaky-firmware 1.0"  # Software
    out = io.BytesIO()
    Image.new("RGB", (120, 80), "orange").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A few bytes of PNG whose header claims width x height pixels: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def files_on_disk(storage_dir: Path) -> list[Path]:
    return sorted(p for p in storage_dir.rglob("*") if p.is_file())


def assert_nothing_stored(storage_dir: Path) -> None:
    """No file anywhere (tmp/ included) and no issue folder."""
    assert files_on_disk(storage_dir) == []
    issues = storage_dir / "issues"
    assert not issues.exists() or list(issues.iterdir()) == []


@pytest.fixture
def upload(
    client: httpx.AsyncClient, auth: Callable[[User], dict[str, str]]
) -> Callable[..., Awaitable[httpx.Response]]:
    async def post(user: User, issue_id: int, *files: Upload) -> httpx.Response:
        parts = [("file", f) for f in files]
        return await client.post(
            f"/api/issues/{issue_id}/attachments", files=parts, headers=auth(user)
        )

    return post


@dataclass
class Stored:
    """What a test sees of the attachment store, whichever the backend."""

    kind: str  # "file" or "s3"
    store: ObjectStore
    scratch: Path  # STORAGE_DIR: uploads are received in its tmp/

    async def keys(self, prefix: str = ISSUES_PREFIX) -> list[str]:
        await self.store.settle()  # removals after a commit run in the background on a bucket
        return sorted([info.key async for info in self.store.list_prefix(prefix)])

    async def names(self, issue_id: int) -> list[str]:
        prefix = issue_prefix(issue_id)
        return [key.removeprefix(prefix) for key in await self.keys(prefix)]

    def receiving(self) -> list[Path]:
        """Files in the temporary folder (uploads being received, thumbnails being made)."""
        folder = upload_dir(self.scratch)
        return sorted(folder.iterdir()) if folder.is_dir() else []

    async def assert_empty(self) -> None:
        """Nothing kept and nothing left behind: no object, no temporary file, no folder."""
        assert await self.keys() == []
        assert self.receiving() == []
        issues = self.scratch / "issues"
        assert not issues.exists() or list(issues.iterdir()) == []


@pytest.fixture(params=["file", "s3"])
async def storage(
    request: pytest.FixtureRequest, app: FastAPI, settings: Settings
) -> AsyncIterator[Stored]:
    """The test runs once with each backend; the app uses that store meanwhile."""
    if request.param == "file":
        yield Stored("file", app.state.attachment_store, settings.storage_dir)
        return
    server: ObjectServer = request.getfixturevalue("object_server")
    store = server.store()
    saved = app.state.attachment_store, app.state.issue_files
    app.state.attachment_store = store
    app.state.issue_files = IssueFilesInStore(settings, store)
    try:
        yield Stored("s3", store, settings.storage_dir)
    finally:
        app.state.attachment_store, app.state.issue_files = saved
        await store.settle()
        await store.delete_prefix("")
