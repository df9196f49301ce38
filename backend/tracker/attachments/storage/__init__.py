"""Where attachment files live: one interface (interface.py), a folder or a bucket behind it
(local.py, s3.py, chosen by the settings in backends.py), keys that no request can shape
(keys.py), and the journal that keeps the store in step with the session's transaction
(journal.py)."""

from tracker.attachments.storage.backends import open_store, store_at, store_for_url
from tracker.attachments.storage.interface import (
    ObjectBody,
    ObjectInfo,
    ObjectMissing,
    ObjectStore,
    ObjectTooLarge,
    StorageError,
)
from tracker.attachments.storage.journal import (
    delete_after_commit,
    delete_prefix_after_commit,
    put_file,
)
from tracker.attachments.storage.keys import (
    ISSUES_PREFIX,
    THUMBNAIL_SUFFIX,
    file_key,
    issue_prefix,
    owner_id,
    split_key,
    thumbnail_key,
)
from tracker.attachments.storage.local import LocalStore
from tracker.attachments.storage.s3 import S3Store

__all__ = [
    "ISSUES_PREFIX",
    "THUMBNAIL_SUFFIX",
    "LocalStore",
    "ObjectBody",
    "ObjectInfo",
    "ObjectMissing",
    "ObjectStore",
    "ObjectTooLarge",
    "S3Store",
    "StorageError",
    "delete_after_commit",
    "delete_prefix_after_commit",
    "file_key",
    "issue_prefix",
    "open_store",
    "owner_id",
    "put_file",
    "split_key",
    "store_at",
    "store_for_url",
    "thumbnail_key",
]
