"""The worker's daily snapshot: right counts, every combination, and idempotent."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import IssueFactory, UserFactory
from tracker.issues.models import Severity, Status
from tracker.localdb import to_libpq
from tracker.roles import Role
from tracker.stats.service import aggregate_daily_stats, utc_today

SEED = [
    (Status.OPEN, Severity.LOW),
    (Status.OPEN, Severity.LOW),
    (Status.OPEN, Severity.CRITICAL),
    (Status.TRIAGED, Severity.HIGH),
    (Status.TRIAGED, Severity.HIGH),
    (Status.TRIAGED, Severity.HIGH),
    (Status.IN_PROGRESS, Severity.MEDIUM),
    (Status.IN_PROGRESS, Severity.CRITICAL),
    (Status.DONE, Severity.LOW),
    (Status.DONE, Severity.MEDIUM),
    (Status.DONE, Severity.MEDIUM),
]


async def _snapshot(session: AsyncSession, day: date) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT id, status, severity, count, updated_at FROM daily_stats "
            "WHERE day = :day ORDER BY status, severity"
        ),
        {"day": day},
    )
    return [dict(r._mapping) for r in rows]


async def _direct_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        text("SELECT status, severity, count(*) FROM issues GROUP BY status, severity")
    )
    return {(r[0], r[1]): r[2] for r in rows}


async def _aggregate(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        changed = await aggregate_daily_stats(session)
        await session.commit()
        return changed


async def test_aggregation_matches_sql_counts_and_running_twice_changes_nothing(
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    reporter = await make_user(Role.REPORTER)
    for status, severity in SEED:
        await make_issue(reporter, status=status, severity=severity)

    assert await _aggregate(sessionmaker) == len(Status) * len(Severity)
    first = await _snapshot(db, utc_today())
    direct = await _direct_counts(db)
    # A complete day: every combination, zeros written too, each equal to a direct count.
    assert {(r["status"], r["severity"]) for r in first} == {
        (s.value, v.value) for s, v in itertools.product(Status, Severity)
    }
    for row in first:
        assert row["count"] == direct.get((row["status"], row["severity"]), 0)
    assert sum(r["count"] for r in first) == len(SEED)

    assert await _aggregate(sessionmaker) == 0
    await db.rollback()  # a fresh snapshot for the comparison
    assert await _snapshot(db, utc_today()) == first


async def test_a_change_updates_only_the_rows_it_moves(
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    reporter = await make_user(Role.REPORTER)
    issue = await make_issue(reporter, status=Status.OPEN, severity=Severity.HIGH)
    await _aggregate(sessionmaker)
    await db.execute(text("UPDATE issues SET status = 'DONE' WHERE id = :id"), {"id": issue.id})
    await db.commit()

    assert await _aggregate(sessionmaker) == 2  # OPEN/HIGH down to 0, DONE/HIGH up to 1
    rows = {(r["status"], r["severity"]): r["count"] for r in await _snapshot(db, utc_today())}
    assert rows[("OPEN", "HIGH")] == 0
    assert rows[("DONE", "HIGH")] == 1


async def test_aggregation_tells_dashboards_only_when_numbers_changed(
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
) -> None:
    reporter = await make_user(Role.REPORTER)
    await make_issue(reporter)
    with psycopg.connect(to_libpq(database_url), autocommit=True) as listener:
        listener.execute("LISTEN tracker_events")
        await _aggregate(sessionmaker)
        first = [n.payload for n in listener.notifies(timeout=2, stop_after=1)]
        await _aggregate(sessionmaker)
        second = [n.payload for n in listener.notifies(timeout=0.5)]
    assert len(first) == 1
    assert '"kind": "stats.updated"' in first[0]
    assert second == []


async def test_rolled_back_aggregation_writes_nothing_and_announces_nothing(
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    database_url: str,
    db: AsyncSession,
) -> None:
    await make_issue(await make_user(Role.REPORTER))
    with psycopg.connect(to_libpq(database_url), autocommit=True) as listener:
        listener.execute("LISTEN tracker_events")
        async with sessionmaker() as session:
            assert await aggregate_daily_stats(session) == 16
            await session.rollback()
        assert list(listener.notifies(timeout=0.5)) == []
    assert await _snapshot(db, utc_today()) == []
