"""The orphan-file sweep: objects under `issues/` in the attachment store that no row owns.

An object is owned when its name starts with the id of an attachment of that issue (the file
itself, or a derivative such as `<id>.thumb.webp`). Unowned objects are deleted only once they
are older than the grace period: an upload stores its object before its row commits. The store
is a folder or a bucket alike (one listing of the `issues/` prefix); on disk an issue's folder
goes with its last file. Uploads left half-received in STORAGE_DIR/tmp/ by a process that died
go after the same grace period (a live upload keeps writing, so its file is never that old).
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.attachments import service as attachments
from tracker.attachments import storage
from tracker.issues import service as issues
from tracker.multipart import remove_abandoned_uploads
from tracker.observability.logging import get_logger

log = get_logger("tracker.worker")
GRACE_SECONDS = 3600


async def sweep_orphans(
    session: AsyncSession,
    store: storage.ObjectStore | Path,
    *,
    scratch_dir: Path | None = None,
    grace_seconds: float = GRACE_SECONDS,
) -> dict[str, int]:
    """Sweep `store` and the temporary folder of `scratch_dir` (STORAGE_DIR).

    Given a folder only, as STORAGE_DIR: the store this process opened for it (a bucket), else
    that folder itself.
    """
    if isinstance(store, Path):
        scratch_dir = scratch_dir or store
        store = storage.store_at(store)
    cutoff = time.time() - grace_seconds
    temp_deleted = _sweep_temp(scratch_dir, grace_seconds) if scratch_dir is not None else 0
    files_deleted, folders_deleted = await _sweep_issues(session, store, cutoff)
    return {"files_deleted": temp_deleted + files_deleted, "folders_deleted": folders_deleted}


def _sweep_temp(storage_dir: Path, grace_seconds: float) -> int:
    removed = remove_abandoned_uploads(storage_dir, grace_seconds)
    for entry in removed:
        log.info("abandoned_upload_deleted", path=str(entry.relative_to(storage_dir)))
    return len(removed)


async def _sweep_issues(
    session: AsyncSession, store: storage.ObjectStore, cutoff: float
) -> tuple[int, int]:
    """(objects deleted, issue folders emptied of the issues that are gone)."""
    by_issue: dict[int, list[storage.ObjectInfo]] = defaultdict(list)
    async for info in store.list_prefix(storage.ISSUES_PREFIX):
        # Only keys in an issue's folder whose name can be an issue id: '²' passes isdigit()
        # and fails int(), and digits past int4 would fail the query.
        split = storage.split_key(info.key)
        if split is not None:
            by_issue[split[0]].append(info)
    if not by_issue:
        return 0, 0
    ids = list(by_issue)
    owned = {
        issue_id: {str(a) for a in attachment_ids}
        for issue_id, attachment_ids in (
            await attachments.attachment_ids_by_issue(session, ids)
        ).items()
    }
    existing = await issues.existing_issue_ids(session, ids)
    old_enough = datetime.fromtimestamp(cutoff, UTC)
    doomed: list[str] = []
    emptied = 0
    for issue_id, objects in by_issue.items():
        unowned = [
            info
            for info in objects
            if storage.owner_id(info.key.rsplit("/", 1)[1]) not in owned[issue_id]
            and info.modified <= old_enough
        ]
        doomed.extend(info.key for info in unowned)
        if issue_id not in existing and len(unowned) == len(objects):
            emptied += 1
    await store.delete(doomed)
    for key in doomed:
        log.info("orphan_file_deleted", key=key)
    return len(doomed), emptied
