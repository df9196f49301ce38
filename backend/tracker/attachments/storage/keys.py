"""Where an attachment's objects live in a store; no part of a key comes from the request.

    issues/<issue_id>/<uuid>              the file as uploaded
    issues/<issue_id>/<uuid>.thumb.webp   its re-encoded thumbnail (images only)

Ids are integers and UUIDs made here. The worker's orphan sweep, `tracker storage migrate` and
`tracker storage check` rely on this layout.
"""

from __future__ import annotations

import re
import uuid

from tracker.inputs import ID_PATTERN

ISSUES_PREFIX = "issues/"
THUMBNAIL_SUFFIX = ".thumb.webp"
UUID_LENGTH = 36
_ISSUE_ID = re.compile(ID_PATTERN)


def issue_prefix(issue_id: int) -> str:
    return f"{ISSUES_PREFIX}{int(issue_id)}/"


def file_key(issue_id: int, attachment_id: uuid.UUID) -> str:
    return f"{issue_prefix(issue_id)}{uuid.UUID(str(attachment_id))}"


def thumbnail_key(issue_id: int, attachment_id: uuid.UUID) -> str:
    return file_key(issue_id, attachment_id) + THUMBNAIL_SUFFIX


def split_key(key: str) -> tuple[int, str] | None:
    """(issue id, object name) of a key in an issue's folder, or None for any other key (a
    deeper path, a folder name that is no issue id)."""
    parts = key.split("/")
    if len(parts) != 3 or f"{parts[0]}/" != ISSUES_PREFIX or not parts[2]:
        return None
    if not _ISSUE_ID.fullmatch(parts[1]):
        return None
    return int(parts[1]), parts[2]


def owner_id(name: str) -> str:
    """The attachment id an object's name starts with (the file itself or a derivative)."""
    return name[:UUID_LENGTH]
