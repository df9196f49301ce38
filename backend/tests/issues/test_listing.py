"""Listing: filters, sorting, keyset pages that stay correct under inserts, fixed query cost."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import IssueFactory, UserFactory
from tracker.auth.models import User
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]
SEVERITY_RANK = {"LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}


async def bulk_issues(db: AsyncSession, reporter_id: int, count: int) -> None:
    # Three issues share each timestamp, so ordering has to break ties by id.
    await db.execute(
        text(
            """
            INSERT INTO issues (title, description, description_html, severity, status,
                                reporter_id, created_at, updated_at)
            SELECT 'Bulk issue ' || g, '', '',
                   (ARRAY['LOW','MEDIUM','HIGH','CRITICAL'])[1 + g % 4],
                   (ARRAY['OPEN','TRIAGED','IN_PROGRESS','DONE'])[1 + g % 4],
                   :reporter,
                   now() - make_interval(secs => g / 3),
                   now() - make_interval(secs => g / 3)
            FROM generate_series(1, :count) AS g
            """
        ),
        {"reporter": reporter_id, "count": count},
    )
    await db.commit()


async def insert_one(db: AsyncSession, reporter_id: int, severity: str) -> int:
    new_id = (
        await db.execute(
            text(
                "INSERT INTO issues (title, severity, reporter_id) "
                "VALUES ('Arrived while paging', :severity, :reporter) RETURNING id"
            ),
            {"severity": severity, "reporter": reporter_id},
        )
    ).scalar_one()
    await db.commit()
    return int(new_id)


@pytest.mark.parametrize("sort", ["-created", "severity", "-severity", "created"])
async def test_cursor_reaches_every_issue_once_while_issues_are_added(
    sort: str,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    auth: Auth,
    db: AsyncSession,
) -> None:
    maintainer = await make_user(Role.MAINTAINER)
    await bulk_issues(db, maintainer.id, 10_000)
    original = {int(i) for (i,) in (await db.execute(text("SELECT id FROM issues"))).all()}
    assert len(original) == 10_000

    seen: list[int] = []
    keys: list[tuple[Any, int]] = []
    added: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"sort": sort, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        resp = await client.get("/api/issues", params=params, headers=auth(maintainer))
        assert resp.status_code == 200, resp.text
        page = resp.json()
        pages += 1
        for item in page["items"]:
            seen.append(item["id"])
            key = SEVERITY_RANK[item["severity"]] if "severity" in sort else item["created_at"]
            keys.append((key, item["id"]))
        # Someone files issues between every two page fetches, across all severities.
        added.append(
            await insert_one(db, maintainer.id, ["LOW", "MEDIUM", "HIGH", "CRITICAL"][pages % 4])
        )
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)), "an issue was served twice"
    assert original <= set(seen), f"{len(original - set(seen))} issues were never reached"
    assert set(seen) - original <= set(added)
    descending = sort.startswith("-")
    assert keys == sorted(keys, reverse=descending)


async def test_filters_combine_and_are_scoped(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
) -> None:
    reporter = await make_user(Role.REPORTER)
    maintainer = await make_user(Role.MAINTAINER)
    a = await make_issue(reporter, severity="HIGH", status="OPEN")
    b = await make_issue(reporter, severity="LOW", status="TRIAGED", assignee_id=maintainer.id)
    c = await make_issue(maintainer, severity="HIGH", status="DONE")
    tagged = await client.patch(
        f"/api/issues/{a.id}",
        json={"tags": ["Billing"]},
        headers={**auth(maintainer), "If-Match": '"1"'},
    )
    assert tagged.status_code == 200

    async def ids(user: User, **params: Any) -> list[int]:
        resp = await client.get("/api/issues", params=params, headers=auth(user))
        assert resp.status_code == 200, resp.text
        return [i["id"] for i in resp.json()["items"]]

    assert await ids(maintainer) == [c.id, b.id, a.id]
    assert await ids(reporter) == [b.id, a.id]
    assert await ids(maintainer, severity="HIGH") == [c.id, a.id]
    assert await ids(maintainer, status=["OPEN", "DONE"]) == [c.id, a.id]
    assert await ids(maintainer, tag="billing") == [a.id]
    assert await ids(maintainer, tag=["BILLING", "billing"]) == [a.id]
    assert await ids(maintainer, tag=["billing", "nobody-uses-this"]) == []
    assert await ids(maintainer, tag="nobody-uses-this", q="issue") == []
    assert await ids(maintainer, assignee_id="me") == [b.id]
    assert await ids(maintainer, assignee_id=str(maintainer.id)) == [b.id]
    assert await ids(maintainer, assignee_id="none") == [c.id, a.id]
    assert await ids(maintainer, reporter_id="me") == [c.id]
    assert await ids(maintainer, sort="severity") == [b.id, a.id, c.id]
    assert await ids(maintainer, sort="-severity") == [c.id, a.id, b.id]
    assert (await ids(maintainer, sort="-updated"))[0] == a.id
    assert await ids(reporter, severity="HIGH") == [a.id]

    for bad in (
        {"sort": "title"},
        {"limit": 0},
        {"limit": 101},
        {"status": "CLOSED"},
        {"assignee_id": "someone"},
        {"cursor": "not-a-cursor"},
    ):
        resp = await client.get("/api/issues", params=bad, headers=auth(maintainer))
        assert resp.status_code in (400, 422), bad
        assert resp.headers["content-type"] == "application/problem+json"

    # A cursor made for one sort is refused by another, instead of serving a wrong page.
    first = await client.get("/api/issues", params={"limit": 1}, headers=auth(maintainer))
    other = await client.get(
        "/api/issues",
        params={"limit": 1, "sort": "severity", "cursor": first.json()["next_cursor"]},
        headers=auth(maintainer),
    )
    assert other.status_code == 400
    assert other.json()["code"] == "invalid_cursor"


@contextmanager
def count_statements(app: FastAPI) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_page_costs_the_same_queries_whatever_its_size(
    app: FastAPI,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    auth: Auth,
    db: AsyncSession,
) -> None:
    maintainer = await make_user(Role.MAINTAINER)
    await bulk_issues(db, maintainer.id, 120)
    await db.execute(text("INSERT INTO tags (name) SELECT 'tag' || g FROM generate_series(1, 3) g"))
    await db.execute(
        text("INSERT INTO issue_tags (issue_id, tag_id) SELECT i.id, t.id FROM issues i, tags t")
    )
    await db.execute(
        text(
            "INSERT INTO comments (issue_id, author_id, body, body_html) "
            "SELECT id, :u, 'hi', '<p>hi</p>' FROM issues"
        ),
        {"u": maintainer.id},
    )
    await db.commit()

    counts = {}
    for params in ({}, {"q": "bulk"}, {"sort": "severity", "tag": "tag1"}):
        for limit in (5, 50):
            with count_statements(app) as statements:
                resp = await client.get(
                    "/api/issues", params={**params, "limit": limit}, headers=auth(maintainer)
                )
            assert resp.status_code == 200
            assert len(resp.json()["items"]) == limit
            assert all(len(i["tags"]) == 3 for i in resp.json()["items"])
            assert all(i["comment_count"] == 1 for i in resp.json()["items"])
            counts[(str(params), limit)] = len(statements)
        assert counts[(str(params), 5)] == counts[(str(params), 50)], statements
    assert max(counts.values()) <= 4
