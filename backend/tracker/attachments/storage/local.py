"""Objects as files in a folder (`STORAGE_URL=file:///…`, or `STORAGE_DIR`): the key is the path.

Uploads are received under `<root>/tmp/` (tracker.multipart.upload_dir), on the same filesystem,
so keeping one is an atomic rename. An issue's folder is made with its first file and removed
with its last, so a rolled-back upload leaves no empty folder behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO

from anyio import to_thread

from tracker.attachments.storage.interface import (
    CHUNK_BYTES,
    ObjectBody,
    ObjectInfo,
    ObjectMissing,
    ObjectTooLarge,
    StorageError,
)
from tracker.multipart import new_upload_path
from tracker.observability.logging import get_logger

log = get_logger("tracker.attachments.storage")


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def url(self) -> str:
        return self.root.absolute().as_uri()

    def path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root.joinpath(*parts)

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None
    ) -> int:
        target = self.path(key)
        temporary = new_upload_path(self.root)
        size = 0
        try:
            with temporary.open("xb") as f:
                async for chunk in chunks:
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise ObjectTooLarge(f"{key}: more than {max_bytes} bytes")
                    await to_thread.run_sync(f.write, chunk)
                await to_thread.run_sync(_flush, f)
            _move(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return size

    async def put_file(self, key: str, path: Path) -> None:
        try:
            _move(path, self.path(key))
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # STORAGE_DIR's tmp/ on another filesystem than the file (a caller's own file).
            await to_thread.run_sync(shutil.copyfile, path, self.path(key))
            await to_thread.run_sync(path.unlink)

    async def open(self, key: str, byte_range: tuple[int, int] | None = None) -> ObjectBody:
        path = self.path(key)
        try:
            f = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectMissing(key) from None
        size = os.fstat(f.fileno()).st_size
        start, end = byte_range if byte_range is not None else (0, size)
        end = min(end, size)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                f.seek(start)
                left = end - start
                while left > 0:
                    chunk = await to_thread.run_sync(f.read, min(CHUNK_BYTES, left))
                    if not chunk:
                        break
                    left -= len(chunk)
                    yield chunk
            finally:
                f.close()

        return ObjectBody(size=size, start=start, end=end, chunks=chunks())

    async def stat(self, key: str) -> ObjectInfo | None:
        try:
            found = self.path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        if not stat.S_ISREG(found.st_mode):
            return None
        return ObjectInfo(key, found.st_size, datetime.fromtimestamp(found.st_mtime, UTC))

    async def delete(self, keys: Sequence[str]) -> None:
        self._remove(keys, ())

    async def delete_prefix(self, prefix: str) -> int:
        count = len([info async for info in self.list_prefix(prefix)])
        self._remove((), (prefix,))
        return count

    async def list_prefix(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        for info in await to_thread.run_sync(self._walk, prefix):
            yield info

    def delete_soon(self, keys: Sequence[str], prefixes: Sequence[str] = ()) -> None:
        self._remove(keys, prefixes)

    async def settle(self) -> None:
        return None

    async def check(self) -> None:
        def writable() -> bool:
            self.root.mkdir(parents=True, exist_ok=True)
            return os.access(self.root, os.W_OK | os.X_OK)

        try:
            ok = await to_thread.run_sync(writable)
        except OSError as exc:
            raise StorageError(f"{self.root}: {exc.strerror}") from exc
        if not ok:
            raise StorageError(f"{self.root} is not writable")

    def _walk(self, prefix: str) -> list[ObjectInfo]:
        folder = prefix.rpartition("/")[0]
        top = self.path(folder) if folder else self.root
        found = []
        for directory, _dirs, files in os.walk(top):
            for name in files:
                path = Path(directory) / name
                key = path.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    info = path.lstat()
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(info.st_mode):
                    modified = datetime.fromtimestamp(info.st_mtime, UTC)
                    found.append(ObjectInfo(key, info.st_size, modified))
        return found

    def _remove(self, keys: Sequence[str], prefixes: Sequence[str]) -> None:
        for key in keys:
            path = self.path(key)
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:  # the orphan sweep retries later; the request must not fail
                log.warning("file_removal_failed", path=str(path), error=str(exc))
                continue
            self._remove_folder_if_empty(path.parent)
        for prefix in prefixes:
            folder = self.path(prefix.rstrip("/"))
            try:
                if folder.is_dir() and not folder.is_symlink():
                    shutil.rmtree(folder)
            except OSError as exc:
                log.warning("file_removal_failed", path=str(folder), error=str(exc))

    def _remove_folder_if_empty(self, folder: Path) -> None:
        # An issue's folder (issues/<id>), never the top-level ones (issues/, tmp/).
        if folder.parent == self.root or self.root not in folder.parents:
            return
        # Not empty (another upload uses it) or already gone: leave it.
        with contextlib.suppress(OSError):
            folder.rmdir()


def _flush(f: IO[bytes]) -> None:
    f.flush()
    os.fsync(f.fileno())  # the row will promise the object exists; make it so after a crash


def _move(source: Path, target: Path) -> None:
    """Atomic rename (same filesystem), making the target's folder if need be."""
    for attempt in range(2):
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            source.replace(target)
            return
        except FileNotFoundError:
            # A concurrent rollback removed the (then empty) folder between mkdir and the move.
            if attempt or not source.exists():
                raise
