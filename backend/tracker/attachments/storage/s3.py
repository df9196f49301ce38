"""Objects in an S3-compatible bucket (`STORAGE_URL=s3://bucket/prefix`), through obstore.

obstore (Rust's `object_store`) signs requests, retries, and streams; nothing here speaks S3
itself. Small objects are one PUT; larger ones a multipart upload, which obstore aborts when
the stream or a part fails, so a failed put leaves no object (a process killed mid-upload can
still leave an incomplete upload: the bucket's lifecycle rule for those, docs/operations.md).

Downloads read the object in ranged GETs of `CHUNK_BYTES`, one after another as the client takes
them: a slow client never holds one long request open against the store's request timeout, and
memory per download stays at one chunk.
"""

from __future__ import annotations

import asyncio
import atexit
import time
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import obstore
from obstore.store import S3Store as ObstoreS3

from tracker.attachments.storage.interface import (
    CHUNK_BYTES,
    ObjectBody,
    ObjectInfo,
    ObjectMissing,
    ObjectTooLarge,
    StorageError,
)
from tracker.observability.logging import get_logger

log = get_logger("tracker.attachments.storage")

# Multipart parts (S3's minimum is 5 MiB); an object up to this size is a single PUT. An upload
# holds at most PART_BYTES x PART_CONCURRENCY in memory.
PART_BYTES = 8 * 1024 * 1024
PART_CONCURRENCY = 2
# Keys per DeleteObjects request (S3's maximum).
DELETE_BATCH = 1000
READY_TIMEOUT_SECONDS = 5.0
# obstore's runtime threads let go of the Python objects of an operation a moment after it has
# completed; an interpreter that finalizes in that moment aborts (SIGABRT, exit code 134), which
# would turn a CLI's exit code or a test run's into a crash. A process that used a bucket waits
# this long before it finalizes.
_EXIT_GRACE_SECONDS = 0.1
_exit_grace_registered = False


def _register_exit_grace() -> None:
    global _exit_grace_registered
    if not _exit_grace_registered:
        atexit.register(time.sleep, _EXIT_GRACE_SECONDS)
        _exit_grace_registered = True


class S3Store:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        config: dict[str, Any] = {}
        if endpoint_url:
            config["endpoint"] = endpoint_url
        else:
            config["virtual_hosted_style_request"] = True  # AWS itself
        if region:
            config["region"] = region
        # Without both, obstore takes the usual AWS chain: AWS_* variables, a web identity
        # token, the container's or the instance's credentials.
        if access_key_id and secret_access_key:
            config["access_key_id"] = access_key_id
            config["secret_access_key"] = secret_access_key
        self._store = ObstoreS3(
            bucket,
            prefix=self.prefix or None,
            config=config,  # type: ignore[arg-type]
            client_options={
                "allow_http": bool(endpoint_url and endpoint_url.startswith("http://")),
                "connect_timeout": timedelta(seconds=5),
                "timeout": timedelta(seconds=60),
            },
            retry_config={"max_retries": 3, "retry_timeout": timedelta(seconds=30)},
        )
        self._pending: set[asyncio.Task[None]] = set()
        self._endpoint = endpoint_url
        _register_exit_grace()

    @property
    def url(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{where} at {self._endpoint}" if self._endpoint else where

    async def put(
        self, key: str, chunks: AsyncIterable[bytes], *, max_bytes: int | None = None
    ) -> int:
        # Read up to one part first: what fits is one PUT, the rest a multipart upload.
        stream = aiter(chunks)
        head = bytearray()
        async for chunk in stream:
            head += chunk
            if max_bytes is not None and len(head) > max_bytes:
                raise ObjectTooLarge(f"{key}: more than {max_bytes} bytes")
            if len(head) > PART_BYTES:
                break
        else:
            await self._call(obstore.put_async(self._store, key, head, use_multipart=False))
            return len(head)
        size = len(head)

        async def rest() -> AsyncIterator[bytes | bytearray]:
            nonlocal size
            yield head
            async for chunk in stream:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    # Raised inside the upload: obstore aborts it, no part is kept.
                    raise ObjectTooLarge(f"{key}: more than {max_bytes} bytes")
                yield chunk

        await self._call(
            obstore.put_async(
                self._store,
                key,
                rest(),
                chunk_size=PART_BYTES,
                max_concurrency=PART_CONCURRENCY,
            )
        )
        return size

    async def put_file(self, key: str, path: Path) -> None:
        await self.put(key, _read_file(path))
        await anyio.Path(path).unlink(missing_ok=True)

    async def open(self, key: str, byte_range: tuple[int, int] | None = None) -> ObjectBody:
        start, end = byte_range if byte_range is not None else (0, None)
        first_end = start + CHUNK_BYTES if end is None else min(end, start + CHUNK_BYTES)
        try:
            result = await obstore.get_async(
                self._store, key, options={"range": (start, first_end)}
            )
            first = bytes(await result.bytes_async())
        except FileNotFoundError:
            raise ObjectMissing(key) from None
        except obstore.exceptions.BaseError as exc:
            raise StorageError(f"{key}: {_reason(exc)}") from exc
        size = result.meta["size"]
        end = size if end is None else min(end, size)

        async def chunks() -> AsyncIterator[bytes]:
            position = start + len(first)
            if first:
                yield first
            while position < end:
                upto = min(end, position + CHUNK_BYTES)
                chunk = bytes(
                    await self._call(
                        obstore.get_range_async(self._store, key, start=position, end=upto)
                    )
                )
                if not chunk:
                    raise StorageError(f"{key} ended at {position} of {end} bytes")
                position += len(chunk)
                yield chunk

        return ObjectBody(size=size, start=start, end=end, chunks=chunks())

    async def stat(self, key: str) -> ObjectInfo | None:
        try:
            meta = await obstore.head_async(self._store, key)
        except FileNotFoundError:
            return None
        except obstore.exceptions.BaseError as exc:
            raise StorageError(f"{key}: {_reason(exc)}") from exc
        return ObjectInfo(key, meta["size"], meta["last_modified"])

    async def delete(self, keys: Sequence[str]) -> None:
        for batch in range(0, len(keys), DELETE_BATCH):
            await self._call(
                obstore.delete_async(self._store, list(keys[batch : batch + DELETE_BATCH]))
            )

    async def delete_prefix(self, prefix: str) -> int:
        keys = [info.key async for info in self.list_prefix(prefix)]
        await self.delete(keys)
        return len(keys)

    async def list_prefix(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        # obstore lists whole path segments: "issues/1" never matches "issues/10/…".
        stream = obstore.list(self._store, prefix.rstrip("/") or None, chunk_size=DELETE_BATCH)
        try:
            async for batch in stream:
                for meta in batch:
                    if meta["path"].startswith(prefix):
                        yield ObjectInfo(meta["path"], meta["size"], meta["last_modified"])
        except obstore.exceptions.BaseError as exc:
            raise StorageError(f"listing {prefix or 'the bucket'}: {_reason(exc)}") from exc

    def delete_soon(self, keys: Sequence[str], prefixes: Sequence[str] = ()) -> None:
        if not keys and not prefixes:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (a synchronous caller): the sweep will do it
            log.warning("file_removal_skipped", keys=list(keys), prefixes=list(prefixes))
            return
        task = loop.create_task(self._delete_quietly(list(keys), list(prefixes)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def settle(self) -> None:
        while self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def check(self) -> None:
        try:
            # A listing of a prefix nothing uses: fails on a missing bucket, bad credentials
            # or an unreachable endpoint (a HEAD of a missing object could not tell those apart).
            await asyncio.wait_for(
                obstore.list_with_delimiter_async(self._store, ".ready/"),
                READY_TIMEOUT_SECONDS,
            )
        except TimeoutError:
            raise StorageError(f"{self.url}: no answer in {READY_TIMEOUT_SECONDS:g} s") from None
        except obstore.exceptions.BaseError as exc:
            raise StorageError(f"{self.url}: {_reason(exc)}") from exc

    async def _delete_quietly(self, keys: list[str], prefixes: list[str]) -> None:
        try:
            await self.delete(keys)
            for prefix in prefixes:
                await self.delete_prefix(prefix)
        except StorageError as exc:  # the orphan sweep retries later
            log.warning("file_removal_failed", keys=keys, prefixes=prefixes, error=str(exc))

    async def _call(self, operation: Any) -> Any:
        try:
            return await operation
        except FileNotFoundError as exc:
            raise ObjectMissing(str(exc).split(":", 1)[0]) from None
        except obstore.exceptions.BaseError as exc:
            raise StorageError(_reason(exc)) from exc


async def _read_file(path: Path) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        while chunk := await f.read(CHUNK_BYTES):
            yield chunk


def _reason(exc: BaseException) -> str:
    """obstore's message without its debug dump (which repeats the request)."""
    return str(exc).split("\n\nDebug source:", 1)[0].strip()
