"""The orphan sweep over the attachment store's `issues/` prefix, on a folder and on a bucket."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import IssueFactory, UserFactory
from tests.storage_server import ObjectServer
from tracker.attachments.models import Attachment
from tracker.attachments.storage import LocalStore, ObjectStore, open_store
from tracker.config import Environment, Settings
from tracker.roles import Role
from tracker.worker.sweep import sweep_orphans


@pytest.fixture(params=["file", "s3"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ObjectStore]:
    if request.param == "file":
        yield LocalStore(tmp_path)
        return
    server: ObjectServer = request.getfixturevalue("object_server")
    bucket = server.store()
    yield bucket
    await bucket.delete_prefix("")


async def _put(store: ObjectStore, key: str) -> str:
    async def body() -> AsyncIterator[bytes]:
        yield b"data"

    await store.put(key, body())
    return key


async def _attach(session: AsyncSession, issue_id: int) -> uuid.UUID:
    attachment = Attachment(
        issue_id=issue_id,
        filename="shot.png",
        content_type="image/png",
        size_bytes=4,
        sha256=hashlib.sha256(b"data").hexdigest(),
    )
    session.add(attachment)
    await session.commit()
    return attachment.id


async def _keys(store: ObjectStore) -> list[str]:
    return sorted([info.key async for info in store.list_prefix("")])


async def test_the_sweep_deletes_unowned_objects_once_they_are_old_enough(
    make_user: UserFactory, make_issue: IssueFactory, db: AsyncSession, store: ObjectStore
) -> None:
    issue = await make_issue(await make_user(Role.REPORTER))
    owned_id = await _attach(db, issue.id)
    owned = await _put(store, f"issues/{issue.id}/{owned_id}")
    thumb = await _put(store, f"issues/{issue.id}/{owned_id}.thumb.webp")
    orphan = await _put(store, f"issues/{issue.id}/{uuid.uuid4()}")
    gone = await _put(store, f"issues/999999/{uuid.uuid4()}")
    kept = [
        await _put(store, "issues/notes/keep.txt"),  # not an issue's folder
        await _put(store, f"issues/{issue.id}/nested/{uuid.uuid4()}"),  # nothing we store
        await _put(store, "issues/0/x"),  # no issue has id 0
    ]

    # Just stored: an upload's object comes before its row commits, so nothing goes yet.
    assert await sweep_orphans(db, store) == {"files_deleted": 0, "folders_deleted": 0}
    assert len(await _keys(store)) == 7

    result = await sweep_orphans(db, store, grace_seconds=0)

    assert result == {"files_deleted": 2, "folders_deleted": 1}  # issue 999999 is gone
    assert await _keys(store) == sorted([owned, thumb, *kept])
    assert orphan not in await _keys(store) and gone not in await _keys(store)


async def test_the_worker_sweeps_the_bucket_it_opened_for_storage_dir(
    make_user: UserFactory,
    make_issue: IssueFactory,
    db: AsyncSession,
    settings: Settings,
    object_server: ObjectServer,
    tmp_path: Path,
) -> None:
    """The scheduled job passes STORAGE_DIR; with an s3:// STORAGE_URL that folder is only the
    scratch space, and the sweep goes through the store the worker opened at start."""
    configured = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment=Environment.TEST,
        database_url=settings.database_url,
        secret_key=settings.secret_key,
        storage_dir=tmp_path,
        **{k.lower(): v for k, v in object_server.environment(f"sweep-{uuid.uuid4()}").items()},
    )
    store = open_store(configured)
    issue = await make_issue(await make_user(Role.REPORTER))
    orphan = await _put(store, f"issues/{issue.id}/{uuid.uuid4()}")
    try:
        result = await sweep_orphans(db, tmp_path, grace_seconds=0)
        assert result == {"files_deleted": 1, "folders_deleted": 0}
        assert orphan not in await _keys(store)
    finally:
        await store.delete_prefix("")
