"""The dashboard's breakdowns: open issues by tag, how long triage and resolution take per
severity, and where issues came from. Each statement is built once in both scopes (every
issue, or one reporter's; tracker.stats.repository)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import BindParameter, DateTime, Select, Table, bindparam, extract, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity.models import IssueEvent
from tracker.auth.models import User
from tracker.issues.models import Issue, Severity, Status, Tag, issue_tags
from tracker.stats.repository import both_scopes, for_scope, in_scope, status_before
from tracker.stats.schemas import SeverityMedian, SourceCount, StatsBreakdown, TagCount

_i = cast(Table, Issue.__table__).c
_e = cast(Table, IssueEvent.__table__).c
_t = cast(Table, Tag.__table__).c
TOP_TAGS = 10
_SINCE: BindParameter[datetime] = bindparam("since", type_=DateTime(timezone=True))


def _open_by_tag(scoped: bool) -> Select[Any]:
    stmt = (
        select(_t.name, func.count().label("n"))
        .select_from(
            issue_tags.join(Issue, Issue.id == issue_tags.c.issue_id).join(
                Tag, Tag.id == issue_tags.c.tag_id
            )
        )
        .where(_i.status != Status.DONE)
        .group_by(_t.name)
        .order_by(func.count().desc(), _t.name)
        .limit(TOP_TAGS)
    )
    return stmt.where(in_scope(_i.reporter_id)) if scoped else stmt


def _median(seconds: Any) -> Any:
    return func.percentile_cont(0.5).within_group(seconds)


def _triage(scoped: bool) -> Select[Any]:
    first_move = (
        select(func.min(_e.created_at))
        .where(_e.issue_id == _i.id, status_before == Status.OPEN.value)
        .correlate(Issue)
        .scalar_subquery()
    )
    waited = extract("epoch", first_move - _i.created_at)
    stmt = (
        select(_i.severity, _median(waited), func.count(first_move))
        .where(_i.created_at >= _SINCE)
        .group_by(_i.severity)
    )
    return stmt.where(in_scope(_i.reporter_id)) if scoped else stmt


def _resolve(scoped: bool) -> Select[Any]:
    took = extract("epoch", _i.resolved_at - _i.created_at)
    stmt = (
        select(_i.severity, _median(took), func.count())
        .where(_i.status == Status.DONE, _i.resolved_at >= _SINCE)
        .group_by(_i.severity)
    )
    return stmt.where(in_scope(_i.reporter_id)) if scoped else stmt


def _sources(scoped: bool) -> Select[Any]:
    # An import that updates an issue it filed before is not an arrival.
    arrived = or_(
        _e.kind == "issue.created",
        (_e.kind == "issue.imported") & _e.data["updated"].astext.is_(None),
    )
    stmt = select(_e.kind, func.count()).where(arrived, _e.created_at >= _SINCE).group_by(_e.kind)
    return stmt.where(in_scope(_e.reporter_id)) if scoped else stmt


_OPEN_BY_TAG = both_scopes(_open_by_tag)
_TRIAGE = both_scopes(_triage)
_RESOLVE = both_scopes(_resolve)
_SOURCES = both_scopes(_sources)


def _medians(rows: Any) -> list[SeverityMedian]:
    found = {Severity(severity): (median, n) for severity, median, n in rows}
    return [
        SeverityMedian(
            severity=severity,
            median_seconds=None if not found.get(severity, (None, 0))[1] else found[severity][0],
            samples=found.get(severity, (None, 0))[1],
        )
        for severity in Severity
    ]


async def breakdown(
    session: AsyncSession, user: User, reporter_id: int | None, days: int
) -> StatsBreakdown:
    since = datetime.now(UTC) - timedelta(days=days)

    async def rows(statements: dict[bool, Any], **extra: Any) -> list[Any]:
        stmt, params = for_scope(statements, reporter_id, **extra)
        return list(await session.execute(stmt, params))

    tags = await rows(_OPEN_BY_TAG)
    sources = dict(await rows(_SOURCES, since=since))
    return StatsBreakdown(
        scope="own" if reporter_id is not None else "all",
        days=days,
        since=since,
        open_by_tag=[TagCount(tag=name, count=n) for name, n in tags],
        time_to_triage=_medians(await rows(_TRIAGE, since=since)),
        time_to_resolve=_medians(await rows(_RESOLVE, since=since)),
        sources=[
            SourceCount(source="app", count=sources.get("issue.created", 0)),
            SourceCount(source="import", count=sources.get("issue.imported", 0)),
        ],
    )
