"""The SQL behind the dashboard and the daily snapshot.

Every reading query takes `reporter_id`: None counts every issue, an id counts only that
reporter's issues. The scope is part of the SQL itself, so a REPORTER's numbers can never
include anyone else's rows. Every statement is built once, when the module loads (a reading
query in both forms: for everyone and for one reporter); values always travel as bind parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, TypeAlias, TypeVar, cast

from sqlalchemy import (
    ARRAY,
    Date,
    DateTime,
    Executable,
    Float,
    Integer,
    Interval,
    Select,
    String,
    Table,
    bindparam,
    case,
    extract,
    func,
    literal_column,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Subquery

from tracker.activity.models import IssueEvent
from tracker.issues.models import Issue, Severity, Status
from tracker.stats.models import DailyStat

_issues = cast(Table, Issue.__table__)
_events = cast(Table, IssueEvent.__table__)
_daily = cast(Table, DailyStat.__table__)
_i = _issues.c
_e = _events.c
_Select: TypeAlias = Select[*tuple[Any, ...]]
_Statement = TypeVar("_Statement", bound=Executable)

# The status an event moved an issue to / from: record_event stores {"changes": {"status": [a, b]}}.
status_after: ColumnElement[str] = _e.data[("changes", "status", "1")].astext
status_before: ColumnElement[str] = _e.data[("changes", "status", "0")].astext

# Constants written into the SQL: a UTC day is selected and grouped by the same expression, which
# PostgreSQL only matches if it holds no parameters.
_UTC = literal_column("'UTC'", String)
_ONE_DAY = literal_column("interval '1 day'", Interval)
_ONE = literal_column("1", Integer)


def _utc_day(at: ColumnElement[datetime]) -> ColumnElement[date]:
    """The UTC calendar day of a timestamp with time zone."""
    return func.timezone(_UTC, at).cast(Date)


def _utc_start(day: ColumnElement[date]) -> ColumnElement[datetime]:
    """The instant a UTC calendar day begins."""
    return func.timezone(_UTC, day.cast(DateTime), type_=DateTime(timezone=True))


def _utc_end(day: ColumnElement[date]) -> ColumnElement[datetime]:
    """The instant a UTC calendar day ends (the next one begins)."""
    return _utc_start(type_coerce(day + _ONE, Date))


def in_scope(reporter_id: ColumnElement[int]) -> ColumnElement[bool]:
    return reporter_id == bindparam("reporter_id", type_=Integer)


def both_scopes(build: Callable[[bool], _Statement]) -> dict[bool, _Statement]:
    """A statement for every issue (False) and narrowed to one reporter's (True)."""
    return {scoped: build(scoped) for scoped in (False, True)}


def for_scope(
    statements: Mapping[bool, _Statement], reporter_id: int | None, **extra: Any
) -> tuple[_Statement, dict[str, Any]]:
    """The form of the statement for this scope, and its parameters."""
    if reporter_id is None:
        return statements[False], extra
    return statements[True], {"reporter_id": reporter_id, **extra}


def _resolved(scoped: bool) -> Subquery:
    """DONE issues with when they were resolved: `resolved_at`, else their last move to DONE."""
    last_move_to_done = (
        select(func.max(_e.created_at))
        .where(_e.issue_id == _i.id, status_after == Status.DONE.value)
        .scalar_subquery()
    )
    stmt = select(
        _i.id,
        _i.created_at,
        func.coalesce(_i.resolved_at, last_move_to_done).label("resolved_at"),
    ).where(_i.status == Status.DONE)
    if scoped:
        stmt = stmt.where(in_scope(_i.reporter_id))
    return stmt.subquery("r")


# --- the daily snapshot --------------------------------------------------------------------------


def _upsert_statement() -> Insert:
    names = ARRAY(String)
    st = (
        func.unnest(bindparam("statuses", [s.value for s in Status], type_=names))
        .table_valued("status")
        .render_derived(name="st")
    )
    sv = (
        func.unnest(bindparam("severities", [s.value for s in Severity], type_=names))
        .table_valued("severity")
        .render_derived(name="sv")
    )
    counts = (
        select(
            bindparam("day", type_=Date),
            st.c.status,
            sv.c.severity,
            func.count(_i.id),
            func.now(),
        )
        .select_from(
            st.join(sv, true()).outerjoin(
                _issues, (_i.status == st.c.status) & (_i.severity == sv.c.severity)
            )
        )
        .group_by(st.c.status, sv.c.severity)
    )
    stmt = insert(_daily).from_select(["day", "status", "severity", "count", "updated_at"], counts)
    return stmt.on_conflict_do_update(
        index_elements=[_daily.c.day, _daily.c.status, _daily.c.severity],
        set_={"count": stmt.excluded["count"], "updated_at": stmt.excluded["updated_at"]},
        where=_daily.c["count"].is_distinct_from(stmt.excluded["count"]),
    )


_UPSERT_SNAPSHOT = _upsert_statement()


async def upsert_daily_snapshot(session: AsyncSession, day: date) -> int:
    """Write `day`'s counts for every status x severity (zeros included); rows changed.

    A row whose count is already right is left alone (its updated_at too), so a second run with
    nothing new changes nothing and reports 0.
    """
    result = await session.execute(_UPSERT_SNAPSHOT, {"day": day})
    return int(getattr(result, "rowcount", 0) or 0)


def _snapshots_statement() -> _Select:
    d = _daily.c
    return (
        select(d.day, d.status, func.sum(d["count"]))
        .where(d.day.between(bindparam("start", type_=Date), bindparam("end", type_=Date)))
        .group_by(d.day, d.status)
    )


_SNAPSHOTS = _snapshots_statement()


async def snapshots_between(
    session: AsyncSession, start: date, end: date
) -> list[tuple[date, str, int]]:
    """(day, status, count) from daily_stats, summed over severity."""
    rows = await session.execute(_SNAPSHOTS, {"start": start, "end": end})
    return [(r[0], r[1], int(r[2])) for r in rows]


# --- the summary ---------------------------------------------------------------------------------


def _counts_statement(scoped: bool) -> _Select:
    stmt = select(_i.status, _i.severity, func.count()).group_by(_i.status, _i.severity)
    return stmt.where(in_scope(_i.reporter_id)) if scoped else stmt


_COUNTS = both_scopes(_counts_statement)


async def counts_by_status_and_severity(
    session: AsyncSession, reporter_id: int | None
) -> list[tuple[str, str, int]]:
    rows = await session.execute(*for_scope(_COUNTS, reporter_id))
    return [(r[0], r[1], int(r[2])) for r in rows]


def _resolved_since_statement(scoped: bool) -> _Select:
    r = _resolved(scoped)
    since = bindparam("since", type_=DateTime(timezone=True))
    return select(func.count()).select_from(r).where(r.c.resolved_at >= since)


_RESOLVED_SINCE = both_scopes(_resolved_since_statement)


async def resolved_since(session: AsyncSession, reporter_id: int | None, since: datetime) -> int:
    value = await session.scalar(*for_scope(_RESOLVED_SINCE, reporter_id, since=since))
    return int(value or 0)


def _median_statement(scoped: bool) -> _Select:
    r = _resolved(scoped)
    seconds = type_coerce(extract("epoch", r.c.resolved_at - r.c.created_at), Float)
    median = func.percentile_cont(literal_column("0.5", Float)).within_group(seconds)
    return select(median).where(r.c.resolved_at.is_not(None))


_MEDIAN = both_scopes(_median_statement)


async def median_seconds_to_resolve(session: AsyncSession, reporter_id: int | None) -> float | None:
    value = await session.scalar(*for_scope(_MEDIAN, reporter_id))
    return float(value) if value is not None else None


def _stays_statement(scoped: bool) -> _Select:
    changes_stmt = (
        select(
            _e.issue_id,
            _e.id,
            _e.created_at.label("at"),
            status_before.label("before"),
            _i.created_at.label("issue_created_at"),
        )
        .select_from(_events.join(_issues, _i.id == _e.issue_id))
        .where(status_after.is_not(None))
    )
    if scoped:
        changes_stmt = changes_stmt.where(in_scope(_i.reporter_id))
    changes = changes_stmt.cte("changes")
    started = func.lag(changes.c.at).over(partition_by=changes.c.issue_id, order_by=changes.c.id)
    stays = select(
        changes.c.before.label("status"),
        (changes.c.at - func.coalesce(started, changes.c.issue_created_at)).label("spent"),
    ).cte("stays")
    return (
        select(stays.c.status, func.avg(extract("epoch", stays.c.spent)), func.count())
        .where(stays.c.status.is_not(None))
        .group_by(stays.c.status)
    )


_STAYS = both_scopes(_stays_statement)


async def finished_status_stays(
    session: AsyncSession, reporter_id: int | None
) -> list[tuple[str, float, int]]:
    """(status, mean seconds, count) over every stay in a status that a later change ended.

    An issue starts in OPEN at creation; each status change ends the stay in its `before`
    status, which began at the previous change (or at creation).
    """
    rows = await session.execute(*for_scope(_STAYS, reporter_id))
    return [(r[0], float(r[1]), int(r[2])) for r in rows]


def _oldest_statement(scoped: bool) -> _Select:
    stmt = select(_i.id, _i.title, _i.severity, _i.status, _i.created_at).where(
        _i.status != Status.DONE
    )
    if scoped:
        stmt = stmt.where(in_scope(_i.reporter_id))
    return stmt.order_by(_i.created_at, _i.id).limit(bindparam("limit", type_=Integer))


_OLDEST = both_scopes(_oldest_statement)


async def oldest_unresolved(
    session: AsyncSession, reporter_id: int | None, limit: int
) -> list[dict[str, Any]]:
    rows = await session.execute(*for_scope(_OLDEST, reporter_id, limit=limit))
    return [dict(r._mapping) for r in rows]


# --- the daily trend -----------------------------------------------------------------------------


def _live_statement() -> _Select:
    start, end = bindparam("start", type_=Date), bindparam("end", type_=Date)
    series = func.generate_series(start, end, _ONE_DAY).table_valued("d").render_derived()
    days = select(series.c.d.cast(Date).label("day")).cte("days")
    day_end = _utc_end(days.c.day)
    status_then = (
        select(status_after)
        .where(_e.issue_id == _i.id, status_after.is_not(None), _e.created_at < day_end)
        .order_by(_e.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    status = case(
        (days.c.day >= bindparam("today", type_=Date), type_coerce(_i.status, String)),
        else_=func.coalesce(status_then, Status.OPEN.value),
    )
    states = (
        select(days.c.day, status.label("status"))
        .select_from(days.join(_issues, _i.created_at < day_end))
        .where(in_scope(_i.reporter_id))
        .cte("states")
    )
    return select(states.c.day, states.c.status, func.count()).group_by(
        states.c.day, states.c.status
    )


_LIVE = _live_statement()


async def live_status_by_day(
    session: AsyncSession, reporter_id: int, start: date, end: date, today: date
) -> list[tuple[date, str, int]]:
    """(day, status, count) for one reporter's issues, rebuilt from their history.

    Each issue counts from its creation day, in the status its last status change up to the
    end of that day (UTC) left it in, OPEN before any change; today uses the current status.
    """
    params = {"reporter_id": reporter_id, "start": start, "end": end, "today": today}
    rows = await session.execute(_LIVE, params)
    return [(r[0], r[1], int(r[2])) for r in rows]


def _per_day(at: ColumnElement[datetime], source: Table | Subquery) -> _Select:
    """How many of `source`'s rows fall on each UTC day from :start to :end, both included."""
    day = _utc_day(at)
    start, end = bindparam("start", type_=Date), bindparam("end", type_=Date)
    return (
        select(day, func.count())
        .select_from(source)
        .where(at >= _utc_start(start), at < _utc_end(end))
        .group_by(day)
    )


def _created_per_day_statement(scoped: bool) -> _Select:
    stmt = _per_day(_i.created_at, _issues)
    return stmt.where(in_scope(_i.reporter_id)) if scoped else stmt


def _resolved_per_day_statement(scoped: bool) -> _Select:
    r = _resolved(scoped)
    return _per_day(r.c.resolved_at, r)


_CREATED_PER_DAY = both_scopes(_created_per_day_statement)
_RESOLVED_PER_DAY = both_scopes(_resolved_per_day_statement)


async def created_per_day(
    session: AsyncSession, reporter_id: int | None, start: date, end: date
) -> dict[date, int]:
    rows = await session.execute(*for_scope(_CREATED_PER_DAY, reporter_id, start=start, end=end))
    return {r[0]: int(r[1]) for r in rows}


async def resolved_per_day(
    session: AsyncSession, reporter_id: int | None, start: date, end: date
) -> dict[date, int]:
    rows = await session.execute(*for_scope(_RESOLVED_PER_DAY, reporter_id, start=start, end=end))
    return {r[0]: int(r[1]) for r in rows}
