"""Keeping the store in step with the database: what to do with objects when a transaction ends.

The request's session commits once, after the service has returned, so a service cannot delete
or keep objects itself at the right moment. Instead it records its intent on the session
(`session.info`), and session events act on it when the transaction ends:

- `keep_unless_committed`: objects already stored are removed if the transaction does not
  commit (a failed flush, a failed commit, an error later in the request);
- `delete_after_commit`: objects of deleted rows are removed only once the deletion is
  committed, so a rolled-back delete never loses a file.

The events are synchronous; each store removes at once (disk) or in a background task (a
bucket: `ObjectStore.delete_soon`). A crash between the put and the commit, or a removal that
fails, leaves an object without a row; the worker's orphan sweep removes those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from tracker.attachments.storage.interface import ObjectStore

JOURNAL_KEY = "tracker.attachments.file_journal"


@dataclass
class _Removals:
    keys: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)


@dataclass
class FileJournal:
    """What to do with objects, store by store, when the session's transaction ends."""

    keep_unless_committed: dict[int, tuple[ObjectStore, _Removals]] = field(default_factory=dict)
    delete_after_commit: dict[int, tuple[ObjectStore, _Removals]] = field(default_factory=dict)

    @staticmethod
    def removals(
        entries: dict[int, tuple[ObjectStore, _Removals]], store: ObjectStore
    ) -> _Removals:
        return entries.setdefault(id(store), (store, _Removals()))[1]


async def _journal(session: AsyncSession) -> FileJournal:
    # Begin the transaction now, so there is always an end to the transaction that follows.
    await session.connection()
    journal = session.info.get(JOURNAL_KEY)
    if journal is None:
        journal = session.info[JOURNAL_KEY] = FileJournal()
    assert isinstance(journal, FileJournal)
    return journal


async def put_file(session: AsyncSession, store: ObjectStore, key: str, path: Path) -> None:
    """Store a finished local file under `key`; removed again unless the transaction commits."""
    journal = await _journal(session)
    # Noted before the put: a put that fails after the store kept the object is undone too.
    journal.removals(journal.keep_unless_committed, store).keys.append(key)
    await store.put_file(key, path)


async def delete_after_commit(session: AsyncSession, store: ObjectStore, *keys: str) -> None:
    """Remove objects once the current transaction has committed (never before)."""
    journal = await _journal(session)
    journal.removals(journal.delete_after_commit, store).keys.extend(keys)


async def delete_prefix_after_commit(
    session: AsyncSession, store: ObjectStore, prefix: str
) -> None:
    """Remove every object under `prefix` once the current transaction has committed."""
    journal = await _journal(session)
    journal.removals(journal.delete_after_commit, store).prefixes.append(prefix)


def _apply(entries: dict[int, tuple[ObjectStore, _Removals]]) -> None:
    for store, removals in entries.values():
        store.delete_soon(removals.keys, removals.prefixes)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    journal = session.info.pop(JOURNAL_KEY, None)
    if isinstance(journal, FileJournal):
        _apply(journal.delete_after_commit)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # Reached with the journal still present only when the outermost transaction ended without
    # a commit: a rollback, a failed commit, or a session closed mid-transaction.
    if transaction.parent is not None:
        return
    journal: Any = session.info.pop(JOURNAL_KEY, None)
    if isinstance(journal, FileJournal):
        _apply(journal.keep_unless_committed)
