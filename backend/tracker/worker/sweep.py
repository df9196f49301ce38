"""The orphan-file sweep: files under STORAGE_DIR/issues/ that no attachment row owns.

A file is owned when its name starts with the id of an attachment of that issue (the file
itself, or a derivative such as `<id>.thumb.webp`). Unowned files are deleted only once they
are older than the grace period: an upload writes its file before its row commits.
An issue's folder goes once it is empty and its issue is gone. Uploads left half-received in
STORAGE_DIR/tmp/ by a process that died go after the same grace period (a live upload keeps
writing, so its file is never that old).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.attachments import service as attachments
from tracker.inputs import ID_PATTERN
from tracker.issues import service as issues
from tracker.multipart import upload_dir
from tracker.observability.logging import get_logger

log = get_logger("tracker.worker")
GRACE_SECONDS = 3600
UUID_LENGTH = 36


async def sweep_orphans(
    session: AsyncSession, storage_dir: Path, *, grace_seconds: float = GRACE_SECONDS
) -> dict[str, int]:
    cutoff = time.time() - grace_seconds
    temp_deleted = _sweep_temp(storage_dir, cutoff)
    files_deleted, folders_deleted = await _sweep_issues(session, storage_dir, cutoff)
    return {"files_deleted": temp_deleted + files_deleted, "folders_deleted": folders_deleted}


def _older_than(entry: Path, cutoff: float) -> bool:
    try:
        return entry.lstat().st_mtime <= cutoff
    except FileNotFoundError:
        return False


_ISSUE_FOLDER = re.compile(ID_PATTERN)


def _sweep_temp(storage_dir: Path, cutoff: float) -> int:
    folder = upload_dir(storage_dir)
    if not folder.is_dir():
        return 0
    deleted = 0
    for entry in folder.iterdir():
        if entry.is_file() and not entry.is_symlink() and _older_than(entry, cutoff):
            entry.unlink(missing_ok=True)
            deleted += 1
            log.info("abandoned_upload_deleted", path=str(entry.relative_to(storage_dir)))
    return deleted


async def _sweep_issues(session: AsyncSession, storage_dir: Path, cutoff: float) -> tuple[int, int]:
    root = storage_dir / "issues"
    if not root.is_dir():
        return 0, 0
    # Only names that can be an issue id: '²' passes isdigit() and fails int(), and digits
    # past int4 would fail the query.
    folders = {
        int(p.name): p for p in root.iterdir() if _ISSUE_FOLDER.fullmatch(p.name) and p.is_dir()
    }
    if not folders:
        return 0, 0
    ids = list(folders)
    owned = {
        issue_id: {str(a) for a in attachment_ids}
        for issue_id, attachment_ids in (
            await attachments.attachment_ids_by_issue(session, ids)
        ).items()
    }
    existing = await issues.existing_issue_ids(session, ids)
    files_deleted = folders_deleted = 0
    for issue_id, folder in folders.items():
        for entry in folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                continue  # nothing we store is a folder: leave it for a person to look at
            if entry.name[:UUID_LENGTH] in owned[issue_id]:
                continue
            try:
                if entry.lstat().st_mtime > cutoff:
                    continue
                entry.unlink()
            except FileNotFoundError:
                continue
            files_deleted += 1
            log.info("orphan_file_deleted", path=str(entry.relative_to(storage_dir)))
        if issue_id not in existing and not any(folder.iterdir()):
            try:
                folder.rmdir()
            except OSError:
                continue  # a file arrived meanwhile
            folders_deleted += 1
    return files_deleted, folders_deleted
