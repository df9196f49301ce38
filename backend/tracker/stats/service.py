"""Insights: the daily snapshot the worker writes and the numbers the dashboard reads."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity.service import notify_stats_changed
from tracker.auth.models import User
from tracker.issues.models import Severity, Status
from tracker.roles import Role
from tracker.stats import breakdown as breakdowns
from tracker.stats import repository
from tracker.stats.schemas import (
    DailyStats,
    FlowPoint,
    OldIssue,
    SeverityCount,
    StatsBreakdown,
    StatsSummary,
    StatusCount,
    StatusDuration,
    Totals,
    TrendPoint,
)

OLDEST_OPEN_LIMIT = 5
UNRESOLVED = (Status.OPEN, Status.TRIAGED, Status.IN_PROGRESS)


def utc_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date()


async def aggregate_daily_stats(session: AsyncSession, day: date | None = None) -> int:
    """Upsert `day`'s (default: today, UTC) counts; returns how many rows changed.

    Open dashboards are told to refresh in the same transaction, only when something changed:
    NOTIFY is delivered on commit, so they never see numbers that were rolled back.
    """
    changed = await repository.upsert_daily_snapshot(session, day or utc_today())
    if changed:
        await notify_stats_changed(session)
    return changed


def _reporter_scope(user: User) -> int | None:
    """Only a REPORTER is narrowed to their own issues; staff see every issue."""
    return user.id if user.role is Role.REPORTER else None


async def summary(session: AsyncSession, user: User, now: datetime | None = None) -> StatsSummary:
    now = now or datetime.now(UTC)
    reporter_id = _reporter_scope(user)
    counts = await repository.counts_by_status_and_severity(session, reporter_id)
    by_status = dict.fromkeys(Status, 0)
    open_by_severity = dict.fromkeys(Severity, 0)
    for status, severity, n in counts:
        by_status[Status(status)] += n
        if Status(status) in UNRESOLVED:
            open_by_severity[Severity(severity)] += n
    stays = {
        Status(s): (avg, n)
        for s, avg, n in await repository.finished_status_stays(session, reporter_id)
    }
    oldest = await repository.oldest_unresolved(session, reporter_id, OLDEST_OPEN_LIMIT)
    return StatsSummary(
        scope="own" if reporter_id is not None else "all",
        generated_at=now,
        totals=Totals(
            total=sum(by_status.values()),
            open=sum(by_status[s] for s in UNRESOLVED),
            in_progress=by_status[Status.IN_PROGRESS],
            done=by_status[Status.DONE],
            done_this_week=await repository.resolved_since(
                session, reporter_id, now - timedelta(days=7)
            ),
        ),
        open_by_severity=[SeverityCount(severity=s, count=n) for s, n in open_by_severity.items()],
        by_status=[StatusCount(status=s, count=n) for s, n in by_status.items()],
        median_time_to_resolve_seconds=await repository.median_seconds_to_resolve(
            session, reporter_id
        ),
        time_in_status=[
            StatusDuration(
                status=s,
                average_seconds=stays[s][0] if s in stays else None,
                samples=stays[s][1] if s in stays else 0,
            )
            for s in Status
        ],
        oldest_open=[OldIssue.model_validate(row) for row in oldest],
    )


async def daily(
    session: AsyncSession, user: User, days: int, now: datetime | None = None
) -> DailyStats:
    """The last `days` UTC days, today included.

    Staff read the worker's global snapshots from daily_stats. Those cannot be narrowed to one
    reporter, so a REPORTER's trend is rebuilt live from their own issues and history instead.
    """
    end = utc_today(now)
    start = end - timedelta(days=days - 1)
    reporter_id = _reporter_scope(user)
    if reporter_id is None:
        rows = await repository.snapshots_between(session, start, end)
    else:
        rows = await repository.live_status_by_day(session, reporter_id, start, end, end)
    per_day: dict[date, dict[Status, int]] = {}
    for day, status, n in rows:
        per_day.setdefault(day, dict.fromkeys(Status, 0))[Status(status)] = n
    created = await repository.created_per_day(session, reporter_id, start, end)
    resolved = await repository.resolved_per_day(session, reporter_id, start, end)
    all_days = [start + timedelta(days=i) for i in range(days)]
    trend: list[TrendPoint] = []
    for day in all_days:
        statuses = per_day.get(day)
        # A reporter's live view is complete for every day: no issues yet simply means zeros.
        if statuses is None and reporter_id is not None:
            statuses = dict.fromkeys(Status, 0)
        trend.append(
            TrendPoint(
                day=day,
                recorded=statuses is not None,
                open=sum(statuses[s] for s in UNRESOLVED) if statuses is not None else None,
                by_status=statuses or {},
            )
        )
    return DailyStats(
        scope="own" if reporter_id is not None else "all",
        source="live" if reporter_id is not None else "daily_stats",
        start=start,
        end=end,
        trend=trend,
        created_vs_done=[
            FlowPoint(day=d, created=created.get(d, 0), done=resolved.get(d, 0)) for d in all_days
        ],
    )


async def breakdown(session: AsyncSession, user: User, days: int) -> StatsBreakdown:
    return await breakdowns.breakdown(session, user, _reporter_scope(user), days)
