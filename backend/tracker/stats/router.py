"""GET /api/stats/*: the dashboard's numbers, scoped by role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tracker.auth.dependencies import CurrentUser
from tracker.db import DbSession
from tracker.stats import service
from tracker.stats.schemas import DailyStats, StatsBreakdown, StatsSummary

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get("/summary", response_model=StatsSummary)
async def get_summary(session: DbSession, user: CurrentUser) -> StatsSummary:
    """Open issues per severity and status, resolution times and the oldest open issues.

    A REPORTER's numbers count only their own issues; MAINTAINER and ADMIN see every issue.
    """
    return await service.summary(session, user)


@router.get("/daily", response_model=DailyStats)
async def get_daily(
    session: DbSession,
    user: CurrentUser,
    days: Annotated[int, Query(ge=1, le=365, description="How many UTC days, today included")] = 30,
) -> DailyStats:
    """The daily trend of issues by status, and issues created vs done per day.

    Staff get the worker's snapshots (`daily_stats`, global); a REPORTER's trend is computed
    live from their own issues, since the snapshots cannot be narrowed to one reporter.
    """
    return await service.daily(session, user, days)


@router.get("/breakdown", response_model=StatsBreakdown)
async def get_breakdown(
    session: DbSession,
    user: CurrentUser,
    days: Annotated[int, Query(ge=1, le=365, description="The range: this many days to now")] = 30,
) -> StatsBreakdown:
    """Open issues by tag (the top 10), the median time to triage and to resolve per severity
    over the range, and how many issues arrived in it from the app and from imports. A
    REPORTER's numbers count only their own issues."""
    return await service.breakdown(session, user, days)
