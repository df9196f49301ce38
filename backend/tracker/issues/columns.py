"""What an issue row shows in a list, a search or a page: its columns, its people, its tags,
and the keys it can be sorted by.

The hot statements are Core (table columns, not ORM attributes): the ORM's compile and
row-loading steps cost more CPU than these queries take in PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, Table, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from tracker.auth.models import User
from tracker.issues.models import Issue, Tag, issue_tags

ISSUES: Table = Issue.__table__  # type: ignore[assignment]
TAGS: Table = Tag.__table__  # type: ignore[assignment]
_i = ISSUES.c
_t = TAGS.c
REPORTER = User.__table__.alias("reporter")
ASSIGNEE = User.__table__.alias("assignee")

# A search result's snippet is made from this much of its description (issues.snippets).
SNIPPET_SOURCE_CHARS = 4000

SORT_KEYS: dict[str, Any] = {
    "created": _i.created_at,
    "updated": _i.updated_at,
    "severity": _i.severity_rank,
}


def tags_of(issue_id: Any) -> ColumnElement[list[str]]:
    """The issue's tag names, sorted, as one array (empty when it has none)."""
    return (
        select(
            func.coalesce(
                func.array_agg(aggregate_order_by(_t.name, _t.name)),
                literal_column("'{}'::varchar[]"),
            )
        )
        .select_from(issue_tags.join(TAGS, _t.id == issue_tags.c.tag_id))
        .where(issue_tags.c.issue_id == issue_id)
        .scalar_subquery()
    )


def summary_columns() -> list[Any]:
    """An issue as a list shows it. Its comment count is a column of `issues`, kept by the
    database (migration 0009), so a page reads no comment."""
    return [
        _i.id,
        _i.title,
        _i.status,
        _i.severity,
        _i.version,
        _i.created_at,
        _i.updated_at,
        _i.resolved_at,
        _i.reporter_id,
        REPORTER.c.full_name.label("reporter_name"),
        _i.assignee_id,
        ASSIGNEE.c.full_name.label("assignee_name"),
        tags_of(_i.id).label("tags"),
        _i.comment_count,
    ]


def with_people(stmt: Select[Any]) -> Select[Any]:
    """Join the reporter and the assignee whose names summary_columns() reads."""
    return stmt.join(REPORTER, REPORTER.c.id == _i.reporter_id).outerjoin(
        ASSIGNEE, ASSIGNEE.c.id == _i.assignee_id
    )


def snippet_source() -> ColumnElement[str]:
    """The text a search result's snippet is cut from: the description, else the title."""
    text = func.coalesce(func.nullif(_i.description, ""), _i.title)
    return func.left(text, SNIPPET_SOURCE_CHARS).label("snippet_source")
