"""Which store the settings name, made once per process.

`STORAGE_URL=file:///path` (or the older `STORAGE_DIR`) is a `LocalStore`; `s3://bucket/prefix`
an `S3Store` with the `S3_*` settings. A process opens its store once (`open_store`) and shares it:
a bucket's client keeps its connections between requests.
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tracker.attachments.storage.interface import ObjectStore
from tracker.attachments.storage.local import LocalStore
from tracker.attachments.storage.s3 import S3Store
from tracker.config import Settings
from tracker.observability.logging import get_logger

log = get_logger("tracker.attachments.storage")

_lock = threading.Lock()
_opened: dict[tuple[str | None, ...], ObjectStore] = {}
# The first store opened for each STORAGE_DIR (a bucket's scratch folder), for callers that
# were handed the folder only (`store_at`).
_by_folder: dict[Path, ObjectStore] = {}
_announced: set[tuple[str | None, ...]] = set()


def store_for_url(url: str, settings: Settings) -> ObjectStore:
    """A store for `url` (file:///… or s3://bucket/prefix), a bucket with the S3_* settings."""
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.netloc in ("", "localhost") and parts.path:
        return LocalStore(Path(unquote(parts.path)))
    if parts.scheme == "s3" and parts.netloc:
        return S3Store(
            parts.netloc,
            unquote(parts.path).strip("/"),
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    raise ValueError(f"not a storage URL (file:///path or s3://bucket/prefix): {url!r}")


def open_store(settings: Settings) -> ObjectStore:
    """This process's store for these settings (the same object on every call)."""
    identity = (
        settings.storage_url,
        str(settings.storage_dir),
        settings.s3_endpoint_url,
        settings.s3_region,
        settings.s3_access_key_id,
        settings.s3_secret_access_key,
    )
    with _lock:
        store = _opened.get(identity)
        if store is None:
            url = settings.storage_url or settings.storage_dir.absolute().as_uri()
            store = _opened[identity] = store_for_url(url, settings)
            _by_folder.setdefault(settings.storage_dir.absolute(), store)
        first = identity not in _announced
        _announced.add(identity)
    if first:
        log.info("attachment_storage", url=store.url)
        if settings.storage_dir_overridden:
            log.info(
                "storage_dir_overridden",
                detail="STORAGE_URL is set and wins: attachments are kept there"
                + ("; STORAGE_DIR only holds uploads being received" if _is_bucket(store) else ""),
                storage_url=store.url,
                storage_dir=str(settings.storage_dir),
            )
    return store


def store_at(storage_dir: Path) -> ObjectStore:
    """The store this process opened for STORAGE_DIR `storage_dir`, else the folder itself."""
    with _lock:
        found = _by_folder.get(storage_dir.absolute())
    return found if found is not None else LocalStore(storage_dir)


def _is_bucket(store: ObjectStore) -> bool:
    return isinstance(store, S3Store)
