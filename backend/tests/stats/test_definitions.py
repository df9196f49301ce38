"""The insight queries one by one: UTC day boundaries, history order, scoping and edge cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.conftest import IssueFactory, UserFactory
from tracker.activity.models import IssueEvent
from tracker.issues.models import Severity, Status
from tracker.roles import Role
from tracker.stats import repository

DAY = date(2026, 3, 10)
MIDNIGHT = datetime(2026, 3, 10, tzinfo=UTC)
TICK = timedelta(microseconds=1)
HOUR = timedelta(hours=1)
# Far from UTC on both sides: a session time zone must never move a UTC day boundary.
SESSION_ZONES = ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"]


async def _event(
    sessionmaker: async_sessionmaker[AsyncSession],
    issue_id: int,
    at: datetime,
    changes: dict[str, Any],
) -> None:
    async with sessionmaker() as session:
        session.add(
            IssueEvent(
                issue_id=issue_id,
                issue_ref=issue_id,
                kind="issue.updated",
                data={"changes": changes},
                created_at=at,
            )
        )
        await session.commit()


async def _moved(
    sessionmaker: async_sessionmaker[AsyncSession],
    issue_id: int,
    before: Status,
    after: Status,
    at: datetime,
) -> None:
    await _event(sessionmaker, issue_id, at, {"status": [before.value, after.value]})


async def _in_zone(db: AsyncSession, zone: str) -> None:
    """This transaction's time zone (SET LOCAL: the pooled connection keeps UTC)."""
    await db.execute(text(f"SET LOCAL TIME ZONE '{zone}'"))


@pytest.mark.parametrize("zone", SESSION_ZONES)
async def test_created_and_resolved_per_day_split_at_utc_midnight(
    zone: str,
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    reporter = await make_user(Role.REPORTER)
    other = await make_user(Role.REPORTER)
    next_midnight = MIDNIGHT + timedelta(days=1)
    for at in (MIDNIGHT - TICK, MIDNIGHT, next_midnight - TICK, next_midnight):
        await make_issue(reporter, created_at=at)
    await make_issue(other, created_at=MIDNIGHT + HOUR)
    for resolved in (MIDNIGHT - TICK, MIDNIGHT, next_midnight - TICK, next_midnight):
        await make_issue(
            reporter,
            status=Status.DONE,
            created_at=MIDNIGHT - timedelta(days=5),
            resolved_at=resolved,
        )
    # No resolved_at: its move to DONE, just before midnight, is when it was resolved.
    moved = await make_issue(reporter, status=Status.DONE, created_at=MIDNIGHT - timedelta(days=5))
    await _moved(sessionmaker, moved.id, Status.OPEN, Status.DONE, MIDNIGHT - TICK)

    await _in_zone(db, zone)
    assert await repository.created_per_day(db, reporter.id, DAY, DAY) == {DAY: 2}
    assert await repository.created_per_day(db, None, DAY, DAY) == {DAY: 3}
    assert await repository.created_per_day(db, None, DAY - timedelta(days=1), DAY) == {
        DAY - timedelta(days=1): 1,
        DAY: 3,
    }
    assert await repository.resolved_per_day(db, reporter.id, DAY, DAY) == {DAY: 2}
    assert await repository.resolved_per_day(
        db, None, DAY - timedelta(days=1), DAY + timedelta(days=1)
    ) == {DAY - timedelta(days=1): 2, DAY: 2, DAY + timedelta(days=1): 1}
    assert await repository.resolved_per_day(db, other.id, DAY, DAY) == {}
    await db.rollback()


@pytest.mark.parametrize("zone", SESSION_ZONES)
async def test_live_status_is_the_last_change_up_to_the_end_of_each_utc_day(
    zone: str,
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    reporter = await make_user(Role.REPORTER)
    other = await make_user(Role.REPORTER)
    start, end = DAY - timedelta(days=1), DAY + timedelta(days=2)
    today = DAY + timedelta(days=2)
    early = await make_issue(reporter, status=Status.OPEN, created_at=MIDNIGHT - TICK)
    # History says TRIAGED from DAY+1 on, but today is the issue's current status (OPEN).
    await _moved(sessionmaker, early.id, Status.OPEN, Status.TRIAGED, MIDNIGHT + timedelta(days=1))
    late = await make_issue(reporter, status=Status.DONE, created_at=MIDNIGHT)
    # Just before DAY ends, then just after: the first is DAY's status, the second DAY+1's.
    next_midnight = MIDNIGHT + timedelta(days=1)
    await _moved(sessionmaker, late.id, Status.OPEN, Status.TRIAGED, next_midnight - TICK)
    await _moved(sessionmaker, late.id, Status.TRIAGED, Status.IN_PROGRESS, next_midnight)
    # Recorded later but stamped earlier: the last change by id wins, not the latest timestamp.
    shuffled = await make_issue(reporter, status=Status.DONE, created_at=MIDNIGHT + HOUR)
    await _moved(
        sessionmaker, shuffled.id, Status.OPEN, Status.IN_PROGRESS, next_midnight + 3 * HOUR
    )
    await _moved(sessionmaker, shuffled.id, Status.IN_PROGRESS, Status.DONE, next_midnight + HOUR)
    # Changes without a status are not status changes.
    await _event(sessionmaker, shuffled.id, next_midnight + 5 * HOUR, {"title": ["a", "b"]})
    await make_issue(other, created_at=MIDNIGHT - timedelta(days=3))

    await _in_zone(db, zone)
    rows = await repository.live_status_by_day(db, reporter.id, start, end, today)
    await db.rollback()

    got: dict[date, dict[str, int]] = {}
    for day, status, n in rows:
        got.setdefault(day, {})[str(status)] = n
    assert got == {
        DAY - timedelta(days=1): {"OPEN": 1},
        DAY: {"OPEN": 2, "TRIAGED": 1},
        DAY + timedelta(days=1): {"TRIAGED": 1, "IN_PROGRESS": 1, "DONE": 1},
        DAY + timedelta(days=2): {"OPEN": 1, "DONE": 2},
    }


async def test_live_status_of_a_reporter_without_issues_is_empty(
    make_user: UserFactory, make_issue: IssueFactory, db: AsyncSession
) -> None:
    reporter = await make_user(Role.REPORTER)
    await make_issue(await make_user(Role.REPORTER), created_at=MIDNIGHT - timedelta(days=9))
    assert await repository.live_status_by_day(db, reporter.id, DAY, DAY, DAY) == []
    assert await repository.created_per_day(db, reporter.id, DAY, DAY) == {}


async def test_stays_follow_status_changes_only_and_the_reporters_own_issues(
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    reporter = await make_user(Role.REPORTER)
    other = await make_user(Role.REPORTER)
    mine = await make_issue(reporter, status=Status.IN_PROGRESS, created_at=MIDNIGHT)
    await _moved(sessionmaker, mine.id, Status.OPEN, Status.TRIAGED, MIDNIGHT + 2 * HOUR)
    # A title edit in between neither ends nor starts a stay.
    await _event(sessionmaker, mine.id, MIDNIGHT + 3 * HOUR, {"title": ["a", "b"]})
    await _moved(sessionmaker, mine.id, Status.TRIAGED, Status.IN_PROGRESS, MIDNIGHT + 7 * HOUR)
    theirs = await make_issue(other, status=Status.TRIAGED, created_at=MIDNIGHT)
    await _moved(sessionmaker, theirs.id, Status.OPEN, Status.TRIAGED, MIDNIGHT + 10 * HOUR)

    own = {
        str(s): (avg, n) for s, avg, n in await repository.finished_status_stays(db, reporter.id)
    }
    assert own == {"OPEN": (2 * 3600.0, 1), "TRIAGED": (5 * 3600.0, 1)}
    every = {str(s): (avg, n) for s, avg, n in await repository.finished_status_stays(db, None)}
    assert every == {"OPEN": (6 * 3600.0, 2), "TRIAGED": (5 * 3600.0, 1)}


async def test_durations_keep_their_fractions_of_a_second(
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    reporter = await make_user(Role.REPORTER)
    issue = await make_issue(
        reporter,
        status=Status.DONE,
        created_at=MIDNIGHT,
        resolved_at=MIDNIGHT + timedelta(seconds=2, microseconds=250_000),
    )
    await _moved(
        sessionmaker, issue.id, Status.OPEN, Status.DONE, MIDNIGHT + timedelta(milliseconds=1500)
    )
    assert await repository.median_seconds_to_resolve(db, reporter.id) == 2.25
    assert await repository.finished_status_stays(db, reporter.id) == [("OPEN", 1.5, 1)]


async def test_resolution_needs_done_and_prefers_resolved_at_over_the_history(
    make_user: UserFactory,
    make_issue: IssueFactory,
    sessionmaker: async_sessionmaker[AsyncSession],
    db: AsyncSession,
) -> None:
    reporter = await make_user(Role.REPORTER)
    other = await make_user(Role.REPORTER)
    stamped = await make_issue(
        reporter, status=Status.DONE, created_at=MIDNIGHT, resolved_at=MIDNIGHT + 4 * HOUR
    )
    await _moved(sessionmaker, stamped.id, Status.OPEN, Status.DONE, MIDNIGHT + 9 * HOUR)
    # Moved to DONE twice: the latest move counts.
    twice = await make_issue(reporter, status=Status.DONE, created_at=MIDNIGHT)
    await _moved(sessionmaker, twice.id, Status.OPEN, Status.DONE, MIDNIGHT + HOUR)
    await _moved(sessionmaker, twice.id, Status.DONE, Status.OPEN, MIDNIGHT + 2 * HOUR)
    await _moved(sessionmaker, twice.id, Status.OPEN, Status.DONE, MIDNIGHT + 8 * HOUR)
    # Reopened: once moved to DONE, but not DONE now.
    reopened = await make_issue(reporter, status=Status.OPEN, created_at=MIDNIGHT)
    await _moved(sessionmaker, reopened.id, Status.OPEN, Status.DONE, MIDNIGHT + HOUR)
    # DONE without a stamp or a move to DONE: resolved at an unknown time.
    await make_issue(reporter, status=Status.DONE, created_at=MIDNIGHT)
    await make_issue(
        other, status=Status.DONE, created_at=MIDNIGHT, resolved_at=MIDNIGHT + 100 * HOUR
    )

    assert await repository.median_seconds_to_resolve(db, reporter.id) == 6 * 3600.0
    assert await repository.median_seconds_to_resolve(db, None) == 8 * 3600.0
    assert await repository.resolved_since(db, reporter.id, MIDNIGHT + 4 * HOUR) == 2
    assert await repository.resolved_since(db, reporter.id, MIDNIGHT + 4 * HOUR + TICK) == 1
    assert await repository.resolved_since(db, None, MIDNIGHT) == 3
    assert await repository.resolved_per_day(db, reporter.id, DAY, DAY) == {DAY: 2}
    assert await repository.median_seconds_to_resolve(db, (await make_user()).id) is None


async def test_counts_and_oldest_open_are_scoped(
    make_user: UserFactory, make_issue: IssueFactory, db: AsyncSession
) -> None:
    reporter = await make_user(Role.REPORTER)
    other = await make_user(Role.REPORTER)
    tie = [await make_issue(reporter, severity=Severity.HIGH, created_at=MIDNIGHT) for _ in "ab"]
    await make_issue(reporter, status=Status.DONE, created_at=MIDNIGHT - HOUR)
    newest = await make_issue(reporter, status=Status.TRIAGED, created_at=MIDNIGHT + HOUR)
    oldest = await make_issue(other, severity=Severity.LOW, created_at=MIDNIGHT - 9 * HOUR)

    counts = await repository.counts_by_status_and_severity(db, reporter.id)
    assert sorted((str(s), str(v), n) for s, v, n in counts) == [
        ("DONE", "MEDIUM", 1),
        ("OPEN", "HIGH", 2),
        ("TRIAGED", "MEDIUM", 1),
    ]
    assert sum(n for *_, n in await repository.counts_by_status_and_severity(db, None)) == 5

    own = await repository.oldest_unresolved(db, reporter.id, 5)
    assert [r["id"] for r in own] == [tie[0].id, tie[1].id, newest.id]
    assert own[0] == {
        "id": tie[0].id,
        "title": tie[0].title,
        "severity": "HIGH",
        "status": "OPEN",
        "created_at": MIDNIGHT,
    }
    assert [r["id"] for r in await repository.oldest_unresolved(db, None, 2)] == [
        oldest.id,
        tie[0].id,
    ]


async def test_a_snapshot_of_a_given_day_leaves_other_days_alone(
    make_user: UserFactory, make_issue: IssueFactory, db: AsyncSession
) -> None:
    assert await repository.upsert_daily_snapshot(db, DAY) == 16  # no issues: 16 zero rows
    await db.commit()
    reporter = await make_user(Role.REPORTER)
    await make_issue(reporter, status=Status.TRIAGED, severity=Severity.LOW)
    await make_issue(reporter, status=Status.TRIAGED, severity=Severity.LOW)
    await make_issue(reporter, status=Status.DONE, severity=Severity.CRITICAL)

    assert await repository.upsert_daily_snapshot(db, DAY + timedelta(days=1)) == 16
    assert await repository.upsert_daily_snapshot(db, DAY) == 2
    assert await repository.upsert_daily_snapshot(db, DAY) == 0
    await db.commit()

    rows = await repository.snapshots_between(db, DAY - timedelta(days=1), DAY)
    assert sorted((d, str(s), n) for d, s, n in rows) == [
        (DAY, "DONE", 1),
        (DAY, "IN_PROGRESS", 0),
        (DAY, "OPEN", 0),
        (DAY, "TRIAGED", 2),
    ]
    later = await repository.snapshots_between(db, DAY + timedelta(days=1), DAY + timedelta(days=9))
    assert {d for d, _, _ in later} == {DAY + timedelta(days=1)}
    assert sum(n for *_, n in later) == 3
