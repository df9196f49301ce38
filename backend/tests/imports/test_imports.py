"""Imports of issues from CSV and JSON: dry runs, whole-or-nothing jobs, re-imports that create
nothing, and files that cannot be read refused up front."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import UserFactory
from tests.imports.conftest import Importer, csv_file, reports
from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.imports import parsing
from tracker.issues.models import Issue
from tracker.localdb import to_libpq
from tracker.roles import Role


async def _issues(db: AsyncSession) -> list[Any]:
    return list((await db.execute(select(Issue).order_by(Issue.external_id, Issue.id))).scalars())


async def _listen(database_url: str, heard: list[dict[str, Any]], ready: asyncio.Event) -> None:
    async with await psycopg.AsyncConnection.connect(
        to_libpq(database_url), autocommit=True
    ) as conn:
        await conn.execute("LISTEN tracker_imports")
        ready.set()
        async for note in conn.notifies(timeout=60):
            heard.append(json.loads(note.payload))
            if heard[-1]["state"] in ("done", "failed"):
                return


async def test_two_thousand_rows_import_in_one_job_with_progress_and_again_create_nothing(
    importer: Importer, make_user: UserFactory, db: AsyncSession, database_url: str
) -> None:
    mia = await make_user(Role.MAINTAINER)
    content = csv_file(reports(2000))

    preview = await importer.send(mia, content, dry_run=True)
    assert preview.status_code == 200, preview.text
    assert {k: preview.json()[k] for k in ("rows", "create", "update", "refused")} == {
        "rows": 2000,
        "create": 2000,
        "update": 0,
        "refused": 0,
    }
    assert await _issues(db) == []  # a dry run writes nothing

    queued = await importer.send(mia, content)
    assert queued.status_code == 202, queued.text
    assert (queued.json()["state"], queued.json()["total_rows"]) == ("queued", 2000)

    heard: list[dict[str, Any]] = []
    ready = asyncio.Event()
    listener = asyncio.create_task(_listen(database_url, heard, ready))
    await asyncio.wait_for(ready.wait(), 10)
    assert await importer.run() == {"imports": 1, "rows": 2000}
    await asyncio.wait_for(listener, 30)
    progress = [h["processed_rows"] for h in heard if h["state"] == "running"]
    assert progress == list(range(100, 2001, 100))
    assert heard[-1]["state"] == "done" and heard[-1]["created_count"] == 2000

    report = await importer.get(mia, queued.json()["id"])
    assert (report["state"], report["created"], report["refused"]) == ("done", 2000, 0)
    issues = await _issues(db)
    assert len(issues) == 2000
    first = next(i for i in issues if i.external_id == "ZD-1")
    assert (first.title, first.severity, first.status) == (
        "Report 1: export fails",
        "MEDIUM",
        "TRIAGED",
    )
    assert first.created_at.isoformat().startswith("2025-02-02T10:00:00")
    assert first.reporter_id == mia.id
    imported = await db.scalar(
        select(func.count()).select_from(IssueEvent).where(IssueEvent.kind == "issue.imported")
    )
    assert imported == 2000

    again = await importer.send(mia, content)
    assert again.status_code == 202
    await importer.run()
    second = await importer.get(mia, again.json()["id"])
    assert (second["created"], second["updated"], second["unchanged"]) == (0, 0, 2000)
    assert len(await _issues(db)) == 2000


async def test_one_bad_row_in_two_thousand_is_named_and_stops_an_all_or_nothing_import(
    importer: Importer, make_user: UserFactory, db: AsyncSession
) -> None:
    mia = await make_user(Role.MAINTAINER)
    rows = reports(2000)
    rows[1233]["severity"] = "URGENT"  # line 1235 of the file: the header is line 1
    content = csv_file(rows)

    preview = (await importer.send(mia, content, dry_run=True)).json()
    assert (preview["create"], preview["refused"]) == (1999, 1)
    assert preview["refusals"] == [
        {"row": 1235, "reason": "severity 'URGENT' is not one of LOW, MEDIUM, HIGH, CRITICAL"}
    ]

    queued = await importer.send(mia, content, on_error="abort")
    await importer.run()
    report = await importer.get(mia, queued.json()["id"])
    assert report["state"] == "failed"
    assert report["refused"] == 1 and report["refusals"][0]["row"] == 1235
    assert "nothing was imported" in report["error"]
    assert await _issues(db) == []

    skipped = await importer.send(mia, content, on_error="skip")
    await importer.run()
    report = await importer.get(mia, skipped.json()["id"])
    assert (report["state"], report["created"], report["refused"]) == ("done", 1999, 1)


async def test_an_export_round_trips_through_an_import(
    importer: Importer, make_user: UserFactory, db: AsyncSession
) -> None:
    mia = await make_user(Role.MAINTAINER)
    for n, (severity, tags) in enumerate(
        [("HIGH", ["safari", "export"]), ("LOW", ["safari"]), ("CRITICAL", ["ui"])]
    ):
        made = await importer.client.post(
            "/api/issues",
            json={"title": f"=Issue {n}", "severity": severity, "tags": tags},
            headers=importer.auth(mia),
        )
        assert made.status_code == 201
    exported = await importer.client.get(
        "/api/issues/export?tag=safari", headers=importer.auth(mia)
    )
    before = [(i.title, i.severity, i.status) for i in await _issues(db) if i.title != "=Issue 2"]
    await db.execute(
        text(
            "TRUNCATE issues, issue_tags, tags, issue_events, search_terms RESTART IDENTITY CASCADE"
        )
    )
    await db.commit()

    queued = await importer.send(mia, exported.content, mapping={"id": "external_id"})
    assert queued.status_code == 202, queued.text
    await importer.run()
    report = await importer.get(mia, queued.json()["id"])
    assert (report["state"], report["created"]) == ("done", 2)
    after = await _issues(db)
    # The export's formula guard is a leading quote, which a spreadsheet hides and an
    # import keeps: the titles round-trip as text.
    assert sorted((i.title.removeprefix("'"), i.severity, i.status) for i in after) == sorted(
        before
    )
    tags = (await importer.client.get("/api/issues?tag=safari", headers=importer.auth(mia))).json()[
        "items"
    ]
    assert sorted(sorted(i["tags"]) for i in tags) == [["export", "safari"], ["safari"]]


async def test_people_are_found_by_address_or_refused_or_made_inactive(
    importer: Importer, make_user: UserFactory, db: AsyncSession
) -> None:
    mia = await make_user(Role.MAINTAINER, email="mia@example.com")
    rae = await make_user(Role.REPORTER, email="rae@example.com")
    rows = [
        {
            "title": "Known",
            "reporter_email": "RAE@example.com",
            "assignee_email": "mia@example.com",
        },
        {"title": "Stranger", "reporter_email": "new@example.com", "assignee_email": ""},
        {"title": "Bad assignee", "reporter_email": "", "assignee_email": "rae@example.com"},
    ]
    content = csv_file(rows)
    refused = (await importer.send(mia, content, dry_run=True)).json()["refusals"]
    assert refused == [
        {"row": 3, "reason": "reporter_email 'new@example.com' is nobody here"},
        {
            "row": 4,
            "reason": "assignee_email 'rae@example.com' is not an active maintainer or admin",
        },
    ]
    created = await importer.send(mia, content, dry_run=True, unknown_reporters="create")
    assert (created.json()["create"], created.json()["new_reporters"]) == (2, 1)

    queued = await importer.send(mia, content, on_error="skip", unknown_reporters="create")
    await importer.run()
    assert (await importer.get(mia, queued.json()["id"]))["created"] == 2
    stranger = await db.scalar(select(User).where(User.email == "new@example.com"))
    assert stranger is not None
    assert (stranger.role, stranger.is_active, stranger.password_hash) == (
        Role.REPORTER,
        False,
        None,
    )
    known = await db.scalar(select(Issue).where(Issue.title == "Known"))
    assert known is not None and (known.reporter_id, known.assignee_id) == (rae.id, mia.id)


async def test_files_that_cannot_be_read_are_refused_before_anything_is_queued(
    importer: Importer, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    mia = await make_user(Role.MAINTAINER)
    rae = await make_user(Role.REPORTER)

    def refused(answer: Any, status: int, code: str) -> str:
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] == code, answer.json()
        return str(answer.json()["detail"])

    latin1 = "title\nCaf\xe9 menu broken\n".encode("latin-1")
    assert "not UTF-8" in refused(await importer.send(mia, latin1), 422, "not_utf8")
    detail = refused(await importer.send(mia, b"summary;details\nA;B\n"), 422, "missing_column")
    assert "'summary', 'details'" in detail
    refused(await importer.send(mia, b"[1, 2]", filename="x.json"), 422, "invalid_json")
    refused(await importer.send(mia, b'{"title": ', filename="x.json"), 422, "invalid_json")
    refused(
        await importer.send(mia, b"title\nx\n", mapping={"title": "headline"}),
        422,
        "invalid_mapping",
    )
    monkeypatch.setattr(parsing, "MAX_ROWS", 50)
    too_many = b"title\n" + b"".join(b"row %d\n" % n for n in range(51))
    refused(await importer.send(mia, too_many), 413, "too_many_rows")
    big = b"title,description\nx," + b"y" * (parsing.MAX_CELL + 1) + b"\n"
    refused(await importer.send(mia, big), 422, "cell_too_large")
    huge = b"title\n" + b"x" * (parsing.MAX_FILE_BYTES + 10)
    assert (await importer.send(mia, huge)).status_code == 413
    assert (await importer.send(rae, b"title\nx\n")).status_code == 403
    assert (await importer.client.get("/api/imports", headers=importer.auth(mia))).json() == []

    # A semicolon-separated file with its own header names, mapped.
    mapped = await importer.send(
        mia,
        b"Summary;Priority\nLogin loops;high\n",
        dry_run=True,
        mapping={"Summary": "title", "Priority": "severity"},
    )
    assert (mapped.json()["create"], mapped.json()["refused"]) == (1, 0)


async def test_json_imports_and_only_the_starter_or_an_admin_follows_an_import(
    importer: Importer, make_user: UserFactory
) -> None:
    mia = await make_user(Role.MAINTAINER)
    max_ = await make_user(Role.MAINTAINER)
    ada = await make_user(Role.ADMIN)
    content = json.dumps(
        [{"title": "From JSON", "tags": ["api", "json"], "external_id": 7, "unknown": 1}]
    ).encode()
    queued = await importer.send(mia, content, filename="issues.json")
    assert queued.status_code == 202, queued.text
    await importer.run()
    report = await importer.get(ada, queued.json()["id"])
    assert (report["state"], report["created"], report["format"]) == ("done", 1, "json")
    hidden = await importer.client.get(
        f"/api/imports/{queued.json()['id']}", headers=importer.auth(max_)
    )
    assert hidden.status_code == 404
    listed = await importer.client.get("/api/issues?tag=json", headers=importer.auth(mia))
    assert [i["title"] for i in listed.json()["items"]] == ["From JSON"]
