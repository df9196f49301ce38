"""The orphan-file sweep: files under STORAGE_DIR/issues/ that no attachment row owns.

A file is owned when its name starts with the id of an attachment of that issue (the file
itself, or a derivative such as `<id>.thumb.webp`). Unowned files are deleted only once they
are older than the grace period: an upload writes its file before its row commits.
An issue's folder goes once it is empty and its issue is gone.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.attachments.models import Attachment
from tracker.issues.models import Issue
from tracker.observability.logging import get_logger

log = get_logger("tracker.worker")
GRACE_SECONDS = 3600
UUID_LENGTH = 36


async def sweep_orphans(
    session: AsyncSession, storage_dir: Path, *, grace_seconds: float = GRACE_SECONDS
) -> dict[str, int]:
    root = storage_dir / "issues"
    if not root.is_dir():
        return {"files_deleted": 0, "folders_deleted": 0}
    folders = {int(p.name): p for p in root.iterdir() if p.name.isdigit() and p.is_dir()}
    if not folders:
        return {"files_deleted": 0, "folders_deleted": 0}
    ids = list(folders)
    owned: dict[int, set[str]] = {i: set() for i in ids}
    rows = await session.execute(
        select(Attachment.issue_id, Attachment.id).where(Attachment.issue_id.in_(ids))
    )
    for issue_id, attachment_id in rows:
        owned[issue_id].add(str(attachment_id))
    existing = set(await session.scalars(select(Issue.id).where(Issue.id.in_(ids))))
    cutoff = time.time() - grace_seconds
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
    return {"files_deleted": files_deleted, "folders_deleted": folders_deleted}
