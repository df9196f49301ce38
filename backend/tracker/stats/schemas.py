"""Dashboard numbers as the API returns them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from tracker.issues.models import Severity, Status


class SeverityCount(BaseModel):
    severity: Severity
    count: int


class StatusCount(BaseModel):
    status: Status
    count: int


class StatusDuration(BaseModel):
    status: Status
    average_seconds: float | None = Field(
        description="Mean length of a finished stay in this status; null when none finished yet"
    )
    samples: int = Field(description="How many finished stays the average is taken over")


class OldIssue(BaseModel):
    id: int
    title: str
    severity: Severity
    status: Status
    created_at: datetime


class Totals(BaseModel):
    total: int = Field(description="Every issue in scope")
    open: int = Field(description="Not DONE yet (OPEN, TRIAGED or IN_PROGRESS)")
    in_progress: int
    done: int
    done_this_week: int = Field(description="Resolved in the last 7 days")


class StatsSummary(BaseModel):
    scope: Literal["all", "own"] = Field(description="`own` when only the caller's issues count")
    generated_at: datetime
    totals: Totals
    open_by_severity: list[SeverityCount] = Field(description="Unresolved issues, every severity")
    by_status: list[StatusCount] = Field(description="Every issue by status, every status")
    median_time_to_resolve_seconds: float | None
    time_in_status: list[StatusDuration]
    oldest_open: list[OldIssue] = Field(description="The five unresolved issues waiting longest")


class TrendPoint(BaseModel):
    day: date
    recorded: bool = Field(description="False when no snapshot exists for this day")
    open: int | None = Field(description="Unresolved issues at the day's snapshot")
    by_status: dict[Status, int]


class FlowPoint(BaseModel):
    day: date
    created: int
    done: int


class DailyStats(BaseModel):
    scope: Literal["all", "own"]
    source: Literal["daily_stats", "live"] = Field(
        description="`daily_stats`: the worker's snapshots; `live`: reconstructed from the "
        "caller's own issues and their history (daily_stats holds global numbers only)"
    )
    start: date
    end: date
    trend: list[TrendPoint]
    created_vs_done: list[FlowPoint]


class TagCount(BaseModel):
    tag: str
    count: int


class SeverityMedian(BaseModel):
    severity: Severity
    median_seconds: float | None = Field(description="null when no issue of this severity counts")
    samples: int


class SourceCount(BaseModel):
    source: Literal["app", "import"] = Field(
        description="`app`: filed in the tracker (web or API); `import`: brought in by an import"
    )
    count: int


class StatsBreakdown(BaseModel):
    scope: Literal["all", "own"]
    days: int
    since: datetime = Field(description="The range starts here and ends now")
    open_by_tag: list[TagCount] = Field(description="Unresolved issues per tag, the top 10")
    time_to_triage: list[SeverityMedian] = Field(
        description="Filed in the range: from filing to the first move out of OPEN"
    )
    time_to_resolve: list[SeverityMedian] = Field(
        description="Resolved in the range: from filing to DONE"
    )
    sources: list[SourceCount] = Field(description="Issues that arrived in the range, by how")
