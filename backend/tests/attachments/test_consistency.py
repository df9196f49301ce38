"""Store and database stay in step, on disk and in a bucket alike: rolled-back uploads leave no
object, committed deletions remove objects only after the commit, and an issue's deletion takes
all of its objects."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from tests.attachments.conftest import png_bytes
from tracker.activity.models import IssueEvent
from tracker.activity.service import record_event
from tracker.attachments import repository, service
from tracker.attachments.models import Attachment
from tracker.attachments.storage import journal
from tracker.issues.models import Issue
from tracker.multipart import ReceivedFile, new_upload_path
from tracker.roles import Role


def received(settings, name: str, data: bytes) -> ReceivedFile:
    path = new_upload_path(settings.storage_dir)
    path.write_bytes(data)
    return ReceivedFile(path, name, len(data), hashlib.sha256(data).hexdigest())


async def count(db, model) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_add_uploads_service_attaches_files_for_the_new_issue_flow(
    make_user, make_issue, sessionmaker, settings, db, storage
):
    reporter = await make_user()
    issue = await make_issue(reporter)
    uploads = [received(settings, "a.png", png_bytes()), received(settings, "b.log", b"log\n")]

    async with sessionmaker() as session:
        out = await service.add_uploads(
            session, issue, uploads, reporter, settings=settings, store=storage.store
        )
        await session.commit()

    assert [(a.filename, a.content_type, a.has_thumbnail) for a in out] == [
        ("a.png", "image/png", True),
        ("b.log", "text/plain", False),
    ]
    assert out[0].uploader_name == reporter.full_name
    assert await storage.names(issue.id) == sorted(
        [str(out[0].id), f"{out[0].id}.thumb.webp", str(out[1].id)]
    )
    assert storage.receiving() == []  # taken by the store, nothing left behind
    assert await count(db, Attachment) == 2
    assert await count(db, IssueEvent) == 2
    # No files: nothing to do (a new issue sent without attachments).
    async with sessionmaker() as session:
        none = await service.add_uploads(
            session, issue, [], reporter, settings=settings, store=storage.store
        )
        assert none == []


async def test_a_failed_database_write_leaves_no_file(
    make_user, make_issue, sessionmaker, settings, db, storage
):
    reporter = await make_user()
    issue = await make_issue(reporter)
    uploads = [
        received(settings, f"{n}.png", png_bytes(color=c))
        for n, c in enumerate(("red", "green", "blue"))
    ]

    async with sessionmaker() as session:
        await service.add_uploads(
            session, issue, uploads, reporter, settings=settings, store=storage.store
        )
        assert len(await storage.keys()) == 6  # stored
        session.add(  # violates size_positive, after the files were moved
            Attachment(
                issue_id=issue.id,
                filename="x",
                content_type="text/plain",
                size_bytes=0,
                sha256="0" * 64,
            )
        )
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()

    await storage.assert_empty()
    assert await count(db, Attachment) == 0


async def test_a_failed_write_in_the_request_answers_4xx_and_leaves_no_file(
    make_user, make_issue, upload, settings, db, monkeypatch, storage
):
    reporter = await make_user()
    issue = await make_issue(reporter)
    real_add = repository.add

    async def add_with_a_conflicting_row(session, rows):
        rows.append(
            Attachment(
                id=rows[0].id,  # duplicate primary key: the flush fails
                issue_id=issue.id,
                filename="dup",
                content_type="text/plain",
                size_bytes=1,
                sha256="0" * 64,
            )
        )
        await real_add(session, rows)

    monkeypatch.setattr(repository, "add", add_with_a_conflicting_row)

    resp = await upload(reporter, issue.id, ("a.png", png_bytes()), ("b.txt", b"b"))

    assert resp.status_code == 409, resp.text
    assert resp.json()["code"] == "conflict"
    await storage.assert_empty()
    assert await count(db, Attachment) == 0


async def test_a_session_closed_without_commit_removes_stored_files(
    make_user, make_issue, sessionmaker, settings, storage
):
    reporter = await make_user()
    issue = await make_issue(reporter)

    async with sessionmaker() as session:
        await service.add_uploads(
            session,
            issue,
            [received(settings, "a.txt", b"a")],
            reporter,
            settings=settings,
            store=storage.store,
        )
        # leaving the block closes the session: the transaction ends without a commit

    await storage.assert_empty()


async def test_deleting_an_issue_with_three_files_removes_them_after_commit(
    make_user, make_issue, upload, sessionmaker, storage
):
    reporter = await make_user()
    admin = await make_user(Role.ADMIN)
    issue = await make_issue(reporter)
    other = await make_issue(reporter)
    files = [("a.png", png_bytes()), ("b.pdf", b"%PDF-1.4\n%%EOF\n"), ("c.csv", b"a,b\n1,2\n")]
    assert (await upload(reporter, issue.id, *files)).status_code == 201
    assert (await upload(reporter, other.id, ("keep.txt", b"k"))).status_code == 201
    assert len(await storage.names(issue.id)) == 4  # three files and a thumbnail

    # A deletion that rolls back keeps every file.
    async with sessionmaker() as session:
        await session.execute(delete(Issue).where(Issue.id == issue.id))
        await service.delete_issue_files(session, issue.id, store=storage.store)
        assert len(await storage.names(issue.id)) == 4  # not before the commit
        await session.rollback()
    assert len(await storage.names(issue.id)) == 4

    # What DELETE /api/issues/{id} does, in the request's one transaction.
    async with sessionmaker() as session:
        await record_event(
            session,
            issue_id=issue.id,
            reporter_id=reporter.id,
            actor_id=admin.id,
            kind="issue.deleted",
            exists=False,
        )
        await session.execute(delete(Issue).where(Issue.id == issue.id))
        await service.delete_issue_files(session, issue.id, store=storage.store)
        assert len(await storage.names(issue.id)) == 4
        await session.commit()

    assert await storage.names(issue.id) == []
    assert [key.split("/")[1] for key in await storage.keys()] == [str(other.id)]
    if storage.kind == "file":
        assert not (storage.scratch / "issues" / str(issue.id)).exists()


async def test_journal_actions_apply_once_per_transaction(sessionmaker, storage):
    async def put(key: str) -> None:
        async def body() -> AsyncIterator[bytes]:
            yield b"made after the commit that scheduled its removal"

        await storage.store.put(key, body())

    async with sessionmaker() as session:
        await journal.delete_after_commit(session, storage.store, "issues/1/doomed")
        await session.commit()
        await storage.store.settle()  # the removal that commit started (in the background)
        await put("issues/1/doomed")
        await session.execute(select(1))
        await session.commit()  # a later transaction in the same session does not remove it
    assert await storage.keys() == ["issues/1/doomed"]


async def test_delete_endpoint_removes_row_and_files_after_commit(
    make_user, make_issue, upload, client, auth, db, storage
):
    reporter = await make_user()
    issue = await make_issue(reporter)
    [item] = (await upload(reporter, issue.id, ("a.png", png_bytes()))).json()

    resp = await client.delete(item["url"], headers=auth(reporter))

    assert resp.status_code == 204
    await storage.assert_empty()
    assert await count(db, Attachment) == 0
    kinds = (await db.scalars(select(IssueEvent.kind).order_by(IssueEvent.id))).all()
    assert kinds == ["attachment.added", "attachment.deleted"]
    assert (await client.get(item["url"], headers=auth(reporter))).status_code == 404


async def test_reporter_deletes_only_what_they_uploaded_staff_delete_anything(
    make_user, make_issue, upload, client, auth
):
    reporter = await make_user()
    maintainer = await make_user(Role.MAINTAINER)
    issue = await make_issue(reporter)
    [by_staff] = (await upload(maintainer, issue.id, ("staff.txt", b"s"))).json()
    [by_reporter] = (await upload(reporter, issue.id, ("mine.txt", b"m"))).json()

    refused = await client.delete(by_staff["url"], headers=auth(reporter))
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_uploader"
    assert (await client.delete(by_reporter["url"], headers=auth(maintainer))).status_code == 204
    assert (await client.delete(by_staff["url"], headers=auth(maintainer))).status_code == 204


async def test_a_row_whose_file_vanished_is_404_not_500(
    make_user, make_issue, upload, client, auth, storage
):
    reporter = await make_user()
    issue = await make_issue(reporter)
    [item] = (await upload(reporter, issue.id, ("a.txt", b"a"))).json()
    await storage.store.delete([f"issues/{issue.id}/{item['id']}"])

    resp = await client.get(item["url"], headers=auth(reporter))

    assert resp.status_code == 404
    assert resp.json()["code"] == "file_missing"
    no_thumb = await client.get(f"{item['url']}/thumbnail", headers=auth(reporter))
    assert no_thumb.json()["code"] == "thumbnail_not_found"
