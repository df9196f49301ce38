"""The SQL behind the dashboard and the daily snapshot.

Every reading query takes `reporter_id`: None counts every issue, an id counts only that
reporter's issues. The scope is part of the SQL itself, so a REPORTER's numbers can never
include anyone else's rows. Queries are composed only from this module's constant fragments
(values always travel as bind parameters), hence the S608 waivers.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.issues.models import Severity, Status

# The status an event moved an issue to / from: record_event stores {"changes": {"status": [a, b]}}.
STATUS_AFTER = "e.data #>> '{changes,status,1}'"
STATUS_BEFORE = "e.data #>> '{changes,status,0}'"


def _scope(reporter_id: int | None, alias: str = "i") -> str:
    return f"{alias}.reporter_id = :reporter_id" if reporter_id is not None else "TRUE"


def _params(reporter_id: int | None, **extra: Any) -> dict[str, Any]:
    return {"reporter_id": reporter_id, **extra} if reporter_id is not None else extra


def _resolved_sql(reporter_id: int | None) -> str:
    """DONE issues with when they were resolved: `resolved_at`, else their last move to DONE."""
    return f"""
        SELECT i.id, i.created_at,
               coalesce(i.resolved_at, (
                   SELECT max(e.created_at) FROM issue_events e
                   WHERE e.issue_id = i.id AND {STATUS_AFTER} = 'DONE'
               )) AS resolved_at
        FROM issues i
        WHERE i.status = 'DONE' AND {_scope(reporter_id)}
    """  # noqa: S608


async def upsert_daily_snapshot(session: AsyncSession, day: date) -> int:
    """Write `day`'s counts for every status x severity (zeros included); rows changed.

    A row whose count is already right is left alone (its updated_at too), so a second run with
    nothing new changes nothing and reports 0.
    """
    statuses = [s.value for s in Status]
    severities = [s.value for s in Severity]
    result = await session.execute(
        text(
            """
            INSERT INTO daily_stats (day, status, severity, count, updated_at)
            SELECT CAST(:day AS date), st.status, sv.severity, count(i.id), now()
            FROM unnest(CAST(:statuses AS varchar[])) AS st(status)
            CROSS JOIN unnest(CAST(:severities AS varchar[])) AS sv(severity)
            LEFT JOIN issues i ON i.status = st.status AND i.severity = sv.severity
            GROUP BY st.status, sv.severity
            ON CONFLICT (day, status, severity) DO UPDATE
                SET count = EXCLUDED.count, updated_at = EXCLUDED.updated_at
                WHERE daily_stats.count IS DISTINCT FROM EXCLUDED.count
            """
        ),
        {"day": day, "statuses": statuses, "severities": severities},
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def counts_by_status_and_severity(
    session: AsyncSession, reporter_id: int | None
) -> list[tuple[str, str, int]]:
    rows = await session.execute(
        text(
            f"""
            SELECT i.status, i.severity, count(*) FROM issues i
            WHERE {_scope(reporter_id)} GROUP BY i.status, i.severity
            """  # noqa: S608
        ),
        _params(reporter_id),
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


async def resolved_since(session: AsyncSession, reporter_id: int | None, since: datetime) -> int:
    value = await session.scalar(
        text(
            f"SELECT count(*) FROM ({_resolved_sql(reporter_id)}) r "  # noqa: S608 - constants
            "WHERE r.resolved_at >= :since"
        ),
        _params(reporter_id, since=since),
    )
    return int(value or 0)


async def median_seconds_to_resolve(session: AsyncSession, reporter_id: int | None) -> float | None:
    value = await session.scalar(
        text(
            f"""
            SELECT percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(epoch FROM r.resolved_at - r.created_at))
            FROM ({_resolved_sql(reporter_id)}) r WHERE r.resolved_at IS NOT NULL
            """  # noqa: S608
        ),
        _params(reporter_id),
    )
    return float(value) if value is not None else None


async def finished_status_stays(
    session: AsyncSession, reporter_id: int | None
) -> list[tuple[str, float, int]]:
    """(status, mean seconds, count) over every stay in a status that a later change ended.

    An issue starts in OPEN at creation; each status change ends the stay in its `before`
    status, which began at the previous change (or at creation).
    """
    rows = await session.execute(
        text(
            f"""
            WITH changes AS (
                SELECT e.issue_id, e.id, e.created_at AS at, {STATUS_BEFORE} AS before,
                       i.created_at AS issue_created_at
                FROM issue_events e JOIN issues i ON i.id = e.issue_id
                WHERE {STATUS_AFTER} IS NOT NULL AND {_scope(reporter_id)}
            ), stays AS (
                SELECT before AS status,
                       at - coalesce(
                           lag(at) OVER (PARTITION BY issue_id ORDER BY id), issue_created_at
                       ) AS spent
                FROM changes
            )
            SELECT status, avg(extract(epoch FROM spent)), count(*) FROM stays
            WHERE status IS NOT NULL GROUP BY status
            """  # noqa: S608
        ),
        _params(reporter_id),
    )
    return [(r[0], float(r[1]), int(r[2])) for r in rows]


async def oldest_unresolved(
    session: AsyncSession, reporter_id: int | None, limit: int
) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            f"""
            SELECT i.id, i.title, i.severity, i.status, i.created_at FROM issues i
            WHERE i.status <> 'DONE' AND {_scope(reporter_id)}
            ORDER BY i.created_at, i.id LIMIT :limit
            """  # noqa: S608
        ),
        _params(reporter_id, limit=limit),
    )
    return [dict(r._mapping) for r in rows]


async def snapshots_between(
    session: AsyncSession, start: date, end: date
) -> list[tuple[date, str, int]]:
    """(day, status, count) from daily_stats, summed over severity."""
    rows = await session.execute(
        text(
            """
            SELECT day, status, sum(count) FROM daily_stats
            WHERE day BETWEEN :start AND :end GROUP BY day, status
            """
        ),
        {"start": start, "end": end},
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


async def live_status_by_day(
    session: AsyncSession, reporter_id: int, start: date, end: date, today: date
) -> list[tuple[date, str, int]]:
    """(day, status, count) for one reporter's issues, rebuilt from their history.

    Each issue counts from its creation day, in the status its last status change up to the
    end of that day (UTC) left it in, OPEN before any change; today uses the current status.
    """
    rows = await session.execute(
        text(
            f"""
            WITH days AS (
                SELECT d::date AS day FROM generate_series(
                    CAST(:start AS date), CAST(:end AS date), interval '1 day') AS d
            ), states AS (
                SELECT days.day,
                       CASE WHEN days.day >= :today THEN i.status ELSE coalesce((
                           SELECT {STATUS_AFTER} FROM issue_events e
                           WHERE e.issue_id = i.id AND {STATUS_AFTER} IS NOT NULL
                             AND e.created_at < (days.day + 1)::timestamp AT TIME ZONE 'UTC'
                           ORDER BY e.id DESC LIMIT 1
                       ), 'OPEN') END AS status
                FROM days JOIN issues i
                  ON i.created_at < (days.day + 1)::timestamp AT TIME ZONE 'UTC'
                WHERE {_scope(reporter_id)}
            )
            SELECT day, status, count(*) FROM states GROUP BY day, status
            """  # noqa: S608
        ),
        _params(reporter_id, start=start, end=end, today=today),
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


async def created_per_day(
    session: AsyncSession, reporter_id: int | None, start: date, end: date
) -> dict[date, int]:
    rows = await session.execute(
        text(
            f"""
            SELECT (i.created_at AT TIME ZONE 'UTC')::date AS day, count(*) FROM issues i
            WHERE {_scope(reporter_id)}
              AND i.created_at >= CAST(:start AS date)::timestamp AT TIME ZONE 'UTC'
              AND i.created_at < (CAST(:end AS date) + 1)::timestamp AT TIME ZONE 'UTC'
            GROUP BY 1
            """  # noqa: S608
        ),
        _params(reporter_id, start=start, end=end),
    )
    return {r[0]: int(r[1]) for r in rows}


async def resolved_per_day(
    session: AsyncSession, reporter_id: int | None, start: date, end: date
) -> dict[date, int]:
    rows = await session.execute(
        text(
            f"""
            SELECT (r.resolved_at AT TIME ZONE 'UTC')::date AS day, count(*)
            FROM ({_resolved_sql(reporter_id)}) r
            WHERE r.resolved_at >= CAST(:start AS date)::timestamp AT TIME ZONE 'UTC'
              AND r.resolved_at < (CAST(:end AS date) + 1)::timestamp AT TIME ZONE 'UTC'
            GROUP BY 1
            """  # noqa: S608
        ),
        _params(reporter_id, start=start, end=end),
    )
    return {r[0]: int(r[1]) for r in rows}
