"""What the attachments domain needs of a place that keeps files: one small interface, two backends.

A store holds objects under keys (`issues/<issue_id>/<uuid>`, see keys.py) and knows nothing of
issues, rows or transactions; the journal (journal.py) ties it to the session's transaction.
`LocalStore` keeps them in a folder, `S3Store` in an S3-compatible bucket. Both are used through
`ObjectStore` only, and the attachment tests run against both.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

# Chunks streamed to and from a store: small enough to keep memory flat, large enough to keep
# the number of round trips through the event loop low.
CHUNK_BYTES = 1024 * 1024


class StorageError(Exception):
    """The store could not do what was asked (unreachable, refused, misconfigured)."""


class ObjectMissing(StorageError):
    """No object under this key."""


class ObjectTooLarge(StorageError):
    """A stream put with `max_bytes` went past it; nothing was kept."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    modified: datetime  # timezone-aware


@dataclass
class ObjectBody:
    """An opened object: `size` is the whole object's, `start`..`end` (exclusive) what `chunks`
    yields. Close it (`aclose`) if `chunks` is not read to the end."""

    size: int
    start: int
    end: int
    chunks: AsyncIterator[bytes]

    async def aclose(self) -> None:
        close = getattr(self.chunks, "aclose", None)
        if close is not None:
            await close()


@runtime_checkable
class ObjectStore(Protocol):
    @property
    def url(self) -> str:
        """Where the objects are (`file:///…`, `s3://bucket/prefix`), without any secret."""
        ...

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None
    ) -> int:
        """Store a stream under `key`, replacing what was there, and return its size.

        Atomic: readers see the old object or the whole new one. Past `max_bytes`, or on any
        error of the stream or the store, nothing is kept (a multipart upload is aborted) and
        the error is raised (`ObjectTooLarge` for the cap)."""
        ...

    async def put_file(self, key: str, path: Path) -> None:
        """Store a finished local file under `key`. The file is taken: moved into place (same
        filesystem) or uploaded and then removed."""
        ...

    async def open(self, key: str, byte_range: tuple[int, int] | None = None) -> ObjectBody:
        """Open an object to stream it, whole or `byte_range` = (start, end exclusive), which
        the caller has checked against the size. Raises `ObjectMissing`."""
        ...

    async def stat(self, key: str) -> ObjectInfo | None:
        """The object's size and time, or None when there is none."""
        ...

    async def delete(self, keys: Sequence[str]) -> None:
        """Remove these objects; keys without one are no error."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with `prefix` (which ends in `/`); how many."""
        ...

    def list_prefix(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """Every object whose key starts with `prefix`, at any depth, in no particular order."""
        ...

    def delete_soon(self, keys: Sequence[str], prefixes: Sequence[str] = ()) -> None:
        """Remove objects from synchronous code (the session's transaction events) without
        waiting for the store: done at once on disk, in a background task for a network store
        (`settle()` waits for those). A failure is logged and left to the orphan sweep."""
        ...

    async def settle(self) -> None:
        """Wait until the removals started by `delete_soon` are done."""
        ...

    async def check(self) -> None:
        """Raise `StorageError` unless the store answers (the readiness check)."""
        ...
