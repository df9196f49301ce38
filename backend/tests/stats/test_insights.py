"""The dashboard's numbers through the API: values, resolution times, and role scoping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import IssueFactory, UserFactory
from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.issues.models import Severity, Status
from tracker.roles import Role
from tracker.stats.service import aggregate_daily_stats

Auth = Callable[[User], dict[str, str]]
HOUR = 3600.0


async def _status_change(
    sessionmaker: async_sessionmaker[AsyncSession],
    issue_id: int,
    reporter_id: int,
    before: Status,
    after: Status,
    at: datetime,
) -> None:
    async with sessionmaker() as session:
        session.add(
            IssueEvent(
                issue_id=issue_id,
                issue_ref=issue_id,
                reporter_id=reporter_id,
                kind="issue.updated",
                data={"changes": {"status": [before.value, after.value]}},
                created_at=at,
            )
        )
        await session.commit()


async def _summary(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    resp = await client.get("/api/stats/summary", headers=headers)
    assert resp.status_code == 200, resp.text
    body: dict[str, Any] = resp.json()
    return body


def _by(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return {item[key]: item for item in items}


async def test_summary_counts_open_issues_per_severity_and_status(
    client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    maintainer = await make_user(Role.MAINTAINER)
    reporter = await make_user(Role.REPORTER)
    now = datetime.now(UTC)
    for status, severity in [
        (Status.OPEN, Severity.CRITICAL),
        (Status.OPEN, Severity.CRITICAL),
        (Status.TRIAGED, Severity.LOW),
        (Status.IN_PROGRESS, Severity.HIGH),
        (Status.DONE, Severity.CRITICAL),
    ]:
        await make_issue(
            reporter,
            status=status,
            severity=severity,
            resolved_at=now - timedelta(days=2) if status is Status.DONE else None,
        )
    old = await make_issue(reporter, title="Oldest", created_at=now - timedelta(days=40))

    body = await _summary(client, auth(maintainer))

    assert body["scope"] == "all"
    assert body["totals"] == {
        "total": 6,
        "open": 5,
        "in_progress": 1,
        "done": 1,
        "done_this_week": 1,
    }
    severities = {k: v["count"] for k, v in _by(body["open_by_severity"], "severity").items()}
    assert severities == {"LOW": 1, "MEDIUM": 1, "HIGH": 1, "CRITICAL": 2}  # DONE not open
    statuses = {k: v["count"] for k, v in _by(body["by_status"], "status").items()}
    assert statuses == {"OPEN": 3, "TRIAGED": 1, "IN_PROGRESS": 1, "DONE": 1}
    assert body["oldest_open"][0]["id"] == old.id
    assert len(body["oldest_open"]) == 5
    assert all(i["status"] != "DONE" for i in body["oldest_open"])


async def test_median_time_to_resolve_uses_resolved_at_or_the_move_to_done(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    auth: Auth,
) -> None:
    admin = await make_user(Role.ADMIN)
    reporter = await make_user(Role.REPORTER)
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for hours in (1, 10):
        await make_issue(
            reporter, status=Status.DONE, created_at=t0, resolved_at=t0 + timedelta(hours=hours)
        )
    # No resolved_at: the time of its move to DONE counts.
    no_stamp = await make_issue(reporter, status=Status.DONE, created_at=t0)
    await _status_change(
        sessionmaker,
        no_stamp.id,
        reporter.id,
        Status.IN_PROGRESS,
        Status.DONE,
        t0 + timedelta(hours=3),
    )
    await make_issue(reporter, status=Status.IN_PROGRESS, created_at=t0)  # unresolved: not counted

    body = await _summary(client, auth(admin))

    assert body["median_time_to_resolve_seconds"] == 3 * HOUR


async def test_median_is_null_until_something_is_resolved(
    client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    admin = await make_user(Role.ADMIN)
    await make_issue(admin)
    body = await _summary(client, auth(admin))
    assert body["median_time_to_resolve_seconds"] is None
    assert all(d["average_seconds"] is None and d["samples"] == 0 for d in body["time_in_status"])


async def test_time_in_status_averages_finished_stays_from_the_history(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    auth: Auth,
) -> None:
    maintainer = await make_user(Role.MAINTAINER)
    reporter = await make_user(Role.REPORTER)
    t0 = datetime(2026, 2, 2, 8, 0, tzinfo=UTC)
    walked = await make_issue(reporter, status=Status.DONE, created_at=t0)
    for before, after, hours in [
        (Status.OPEN, Status.TRIAGED, 1),
        (Status.TRIAGED, Status.IN_PROGRESS, 3),
        (Status.IN_PROGRESS, Status.DONE, 6),
    ]:
        await _status_change(
            sessionmaker, walked.id, reporter.id, before, after, t0 + timedelta(hours=hours)
        )
    triaged = await make_issue(reporter, status=Status.TRIAGED, created_at=t0)
    await _status_change(
        sessionmaker, triaged.id, reporter.id, Status.OPEN, Status.TRIAGED, t0 + timedelta(hours=3)
    )

    stays = _by((await _summary(client, auth(maintainer)))["time_in_status"], "status")

    assert stays["OPEN"] == {"status": "OPEN", "average_seconds": 2 * HOUR, "samples": 2}
    assert stays["TRIAGED"]["average_seconds"] == 2 * HOUR
    assert stays["TRIAGED"]["samples"] == 1  # the second issue is still TRIAGED: not finished
    assert stays["IN_PROGRESS"]["average_seconds"] == 3 * HOUR
    assert stays["DONE"]["average_seconds"] is None


async def test_a_reporter_sees_numbers_for_their_own_issues_only(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    auth: Auth,
) -> None:
    mine_user = await make_user(Role.REPORTER)
    other = await make_user(Role.REPORTER)
    maintainer = await make_user(Role.MAINTAINER)
    now = datetime.now(UTC)
    mine = [
        await make_issue(mine_user, severity=Severity.HIGH),
        await make_issue(mine_user, status=Status.DONE, resolved_at=now - timedelta(hours=1)),
    ]
    theirs = [
        await make_issue(other, severity=Severity.HIGH, created_at=now - timedelta(days=9)),
        await make_issue(other, severity=Severity.CRITICAL),
        await make_issue(other, status=Status.DONE, resolved_at=now - timedelta(hours=5)),
    ]
    await _status_change(
        sessionmaker, theirs[0].id, other.id, Status.OPEN, Status.TRIAGED, now - timedelta(days=1)
    )

    own = await _summary(client, auth(mine_user))
    assert own["scope"] == "own"
    assert own["totals"]["total"] == 2
    assert own["totals"]["done_this_week"] == 1
    assert {i["id"] for i in own["oldest_open"]} == {mine[0].id}
    assert _by(own["open_by_severity"], "severity")["HIGH"]["count"] == 1
    assert _by(own["open_by_severity"], "severity")["CRITICAL"]["count"] == 0
    assert all(d["samples"] == 0 for d in own["time_in_status"])  # the event was someone else's

    daily = (await client.get("/api/stats/daily?days=10", headers=auth(mine_user))).json()
    assert daily["scope"] == "own"
    assert daily["source"] == "live"
    assert sum(p["created"] for p in daily["created_vs_done"]) == 2
    assert sum(p["done"] for p in daily["created_vs_done"]) == 1
    assert daily["trend"][-1]["by_status"]["OPEN"] == 1

    staff = await _summary(client, auth(maintainer))
    assert staff["totals"]["total"] == 5


async def test_daily_trend_for_staff_comes_from_the_snapshots(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    auth: Auth,
) -> None:
    maintainer = await make_user(Role.MAINTAINER)
    await make_issue(maintainer, status=Status.OPEN)
    await make_issue(maintainer, status=Status.IN_PROGRESS)
    await make_issue(maintainer, status=Status.DONE, resolved_at=datetime.now(UTC))

    before = (await client.get("/api/stats/daily?days=7", headers=auth(maintainer))).json()
    assert before["source"] == "daily_stats"
    assert len(before["trend"]) == 7
    assert not any(p["recorded"] for p in before["trend"])  # the worker has not run yet

    async with sessionmaker() as session:
        await aggregate_daily_stats(session)
        await session.commit()
    body = (await client.get("/api/stats/daily?days=7", headers=auth(maintainer))).json()

    today = body["trend"][-1]
    assert today["day"] == body["end"]
    assert today["recorded"] is True
    assert today["open"] == 2
    assert today["by_status"] == {"OPEN": 1, "TRIAGED": 0, "IN_PROGRESS": 1, "DONE": 1}
    assert body["trend"][0]["open"] is None
    assert body["created_vs_done"][-1] == {"day": body["end"], "created": 3, "done": 1}


async def test_reporter_trend_is_rebuilt_from_history_day_by_day(
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    auth: Auth,
) -> None:
    reporter = await make_user(Role.REPORTER)
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    issue = await make_issue(
        reporter,
        status=Status.DONE,
        created_at=today - timedelta(days=3),
        resolved_at=today - timedelta(days=1),
    )
    await _status_change(
        sessionmaker, issue.id, reporter.id, Status.OPEN, Status.DONE, today - timedelta(days=1)
    )

    body = (await client.get("/api/stats/daily?days=5", headers=auth(reporter))).json()

    opens = [p["open"] for p in body["trend"]]
    assert opens == [0, 1, 1, 0, 0]
    assert body["trend"][3]["by_status"]["DONE"] == 1
    assert [p["done"] for p in body["created_vs_done"]] == [0, 0, 0, 1, 0]
    assert [p["created"] for p in body["created_vs_done"]] == [0, 1, 0, 0, 0]


async def test_stats_need_a_signed_in_user_and_a_sane_range(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    assert (await client.get("/api/stats/summary")).status_code == 401
    assert (await client.get("/api/stats/daily")).status_code == 401
    headers = auth(await make_user(Role.ADMIN))
    for days in (0, 366, "x"):
        resp = await client.get(f"/api/stats/daily?days={days}", headers=headers)
        assert resp.status_code == 422
        assert resp.headers["content-type"].startswith("application/problem+json")
    default = (await client.get("/api/stats/daily", headers=headers)).json()
    assert len(default["trend"]) == 30
