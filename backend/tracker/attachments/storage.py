"""Where attachment files live, and keeping the disk in step with the database.

Layout under `settings.storage_dir` (the worker's orphan sweep relies on it):

    tmp/<random>                        uploads being received (tracker.multipart.upload_dir) and
                                        thumbnails being made; same filesystem, so a move is atomic
    issues/<issue_id>/<uuid>            the file as uploaded
    issues/<issue_id>/<uuid>.thumb.webp its re-encoded thumbnail (images only)

No part of a path comes from the request: ids are integers and UUIDs made here.

The request's session commits once, after the service has returned, so a service cannot delete
or keep files itself at the right moment. Instead it records its intent on the session
(`session.info`), and session events act on it when the transaction ends:

- `keep_unless_committed`: files already moved into place are removed if the transaction does not
  commit (a failed flush, a failed commit, an error later in the request);
- `delete_after_commit`: files of deleted rows are removed only once the deletion is committed,
  so a rolled-back delete never loses a file.

A crash between the move and the commit can still leave a file without a row; the worker's orphan
sweep removes those.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from tracker.observability.logging import get_logger

log = get_logger("tracker.attachments.storage")

JOURNAL_KEY = "tracker.attachments.file_journal"
THUMBNAIL_SUFFIX = ".thumb.webp"


def issue_dir(storage_dir: Path, issue_id: int) -> Path:
    return storage_dir / "issues" / str(int(issue_id))


def file_path(storage_dir: Path, issue_id: int, attachment_id: uuid.UUID) -> Path:
    return issue_dir(storage_dir, issue_id) / str(uuid.UUID(str(attachment_id)))


def thumbnail_path(storage_dir: Path, issue_id: int, attachment_id: uuid.UUID) -> Path:
    return file_path(storage_dir, issue_id, attachment_id).with_suffix(THUMBNAIL_SUFFIX)


@dataclass
class FileJournal:
    """What to do with files when the session's transaction ends."""

    keep_unless_committed: list[Path] = field(default_factory=list)
    created_dirs: list[Path] = field(default_factory=list)
    delete_after_commit: list[Path] = field(default_factory=list)


async def _journal(session: AsyncSession) -> FileJournal:
    # Begin the transaction now, so there is always an end to the transaction that follows.
    await session.connection()
    journal = session.info.get(JOURNAL_KEY)
    if journal is None:
        journal = session.info[JOURNAL_KEY] = FileJournal()
    assert isinstance(journal, FileJournal)
    return journal


async def move_into_place(session: AsyncSession, source: Path, target: Path) -> None:
    """Move a finished temporary file to its final path; undone unless the transaction commits."""
    journal = await _journal(session)
    created = _move(source, target)
    if created is not None:
        journal.created_dirs.append(created)
    journal.keep_unless_committed.append(target)


def _move(source: Path, target: Path) -> Path | None:
    """Atomic rename (same filesystem); returns the folder if this call created it."""
    created = None
    for attempt in range(2):
        if not target.parent.exists():
            with contextlib.suppress(FileExistsError):
                target.parent.mkdir(parents=True)
                created = target.parent
        try:
            source.replace(target)
            return created
        except FileNotFoundError:
            # A concurrent rollback removed the (then empty) folder between mkdir and the move.
            if attempt or not source.exists():
                raise
    return created  # pragma: no cover - the loop returns or raises


async def delete_after_commit(session: AsyncSession, *paths: Path) -> None:
    """Remove files or folders once the current transaction has committed (never before)."""
    journal = await _journal(session)
    journal.delete_after_commit.extend(paths)


async def delete_issue_files(session: AsyncSession, storage_dir: Path, issue_id: int) -> None:
    """Remove an issue's whole folder after the transaction that deletes the issue commits."""
    await delete_after_commit(session, issue_dir(storage_dir, issue_id))


def remove_path(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:  # the orphan sweep retries later; the request must not fail now
        log.warning("file_removal_failed", path=str(path), error=str(exc))


def _remove_if_empty(directory: Path) -> None:
    # Not empty (another upload uses it) or already gone: leave it.
    with contextlib.suppress(OSError):
        directory.rmdir()


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    journal = session.info.pop(JOURNAL_KEY, None)
    if isinstance(journal, FileJournal):
        for path in journal.delete_after_commit:
            remove_path(path)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Reached with the journal still present only when the outermost transaction ended without
    # a commit: a rollback, a failed commit, or a session closed mid-transaction.
    if transaction.parent is not None:
        return
    journal: Any = session.info.pop(JOURNAL_KEY, None)
    if isinstance(journal, FileJournal):
        for path in journal.keep_unless_committed:
            remove_path(path)
        for directory in reversed(journal.created_dirs):
            _remove_if_empty(directory)
