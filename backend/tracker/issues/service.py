"""Issues: listing and searching, reading one, its history, similar titles, tags, assignees;
who may do what with an issue; and what other domains ask of issues (visibility, activity).
Filing, editing and deleting are in `changes.py`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity import service as activity
from tracker.auth.models import User
from tracker.cursors import Cursor, decode_cursor, decode_id_cursor, encode_cursor
from tracker.db import Record
from tracker.errors import BadRequest, NotFound
from tracker.issues import repository, search, workflow
from tracker.issues.filters import ListFilter
from tracker.issues.models import Issue, Status
from tracker.issues.schemas import (
    SORTS,
    EventPage,
    IssueDetail,
    IssueFilters,
    IssuePage,
    IssuePermissions,
    IssueQuery,
    SimilarIssue,
    TagOut,
)
from tracker.issues.snippets import snippet_html, word_pattern
from tracker.refs import UserRef
from tracker.roles import Role, is_staff
from tracker.users import service as users


def not_found(issue_id: int) -> NotFound:
    return NotFound(f"Issue {issue_id} not found", code="issue_not_found")


def scope(user: User) -> int | None:
    """The reporter id a caller's queries are limited to, or None for staff."""
    return None if is_staff(user) else user.id


def permissions(user: User, reporter_id: int, status: Status) -> IssuePermissions:
    staff = is_staff(user)
    own = reporter_id == user.id
    return IssuePermissions(
        edit=staff or (own and status == Status.OPEN),
        change_status=staff,
        assign=staff,
        tag=staff,
        delete=user.role == Role.ADMIN,
        comment=staff or own,
        attach=staff or own,
        delete_any_attachment=staff,
    )


def person(user_id: int | None, name: str | None) -> dict[str, Any] | None:
    return None if user_id is None or name is None else {"id": user_id, "full_name": name}


def summary_fields(row: Record) -> dict[str, Any]:
    """An issue row as the summary's fields, plain data: the response model validates a whole
    page in one pass, which costs far less than building each nested model in Python."""
    return {
        "id": row["id"],
        "title": row["title"],
        "status": row["status"],
        "severity": row["severity"],
        "reporter": {"id": row["reporter_id"], "full_name": row["reporter_name"]},
        "assignee": person(row["assignee_id"], row["assignee_name"]),
        "tags": row["tags"],
        "comment_count": row["comment_count"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "resolved_at": row["resolved_at"],
    }


# ---- reading ---------------------------------------------------------------------------


def _resolve_user_filter(value: int | str | None, user: User, *, allow_none: bool) -> Any:
    if value is None or isinstance(value, int):
        return value
    if value == "me":
        return user.id
    if allow_none and value == "none":
        return "none"
    if value.isascii() and value.isdecimal():
        return int(value)
    raise BadRequest(
        f"Expected a user id, 'me'{' or none' if allow_none else ''}, got {value!r}",
        code="invalid_filter",
    )


async def get_visible_issue(session: AsyncSession, user: User, issue_id: int) -> Issue:
    """The issue, if this user may see it; otherwise the same 404 as for one that is not there."""
    issue = await repository.get_for_access(session, issue_id)
    if issue is None or not (is_staff(user) or issue.reporter_id == user.id):
        raise not_found(issue_id)
    return issue


async def list_filter(
    session: AsyncSession, user: User, query: IssueFilters, *, words: bool = True
) -> ListFilter:
    """What a listing asks for, checked, for this caller (a REPORTER's scope included); with
    `words`, the search words relevance ranking needs."""
    text = (query.q or "").strip() or None
    if query.sort is not None and query.sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}", code="invalid_sort")
    assignee = _resolve_user_filter(query.assignee_id, user, allow_none=True)
    reporter = _resolve_user_filter(query.reporter_id, user, allow_none=False)
    return ListFilter(
        statuses=query.status,
        severities=query.severity,
        # At most ten tags, as an issue can have.
        tags=[t.strip() for t in query.tag[:10] if t.strip()],
        text=text,
        assignee_id=None if assignee == "none" else assignee,
        unassigned=assignee == "none",
        reporter_id=reporter,
        scope_reporter_id=scope(user),
        words=await search.search_words(session, text) if text and words else [],
    )


async def list_issues(session: AsyncSession, user: User, query: IssueQuery) -> IssuePage:
    flt = await list_filter(session, user, query)
    text, words = flt.text, flt.words
    sort = query.sort or ("rank" if text else "-created")
    kind: type[datetime] | type[int] | type[float] = (
        float if sort == "rank" else int if sort.lstrip("-") == "severity" else datetime
    )
    cursor: Cursor | None = decode_cursor(query.cursor, sort, kind) if query.cursor else None
    rows, key_column = await repository.list_page(
        session, flt, sort=sort, cursor=cursor, limit=query.limit
    )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = [summary_fields(row) for row in rows]
    if text:
        pattern = word_pattern(words)
        for item, row in zip(items, rows, strict=True):
            item["snippet"] = snippet_html(row["snippet_source"], pattern)
    next_cursor = (
        encode_cursor(sort, rows[-1][key_column], rows[-1]["id"]) if more and rows else None
    )
    return IssuePage.model_validate({"items": items, "next_cursor": next_cursor})


async def get_issue(session: AsyncSession, user: User, issue_id: int) -> IssueDetail:
    row = await repository.get_detail(session, issue_id, scope(user), user.id)
    if row is None:
        raise not_found(issue_id)
    return IssueDetail.model_validate(
        {
            **summary_fields(row),
            "description": row["description"],
            "description_html": row["description_html"],
            "attachment_count": row["attachment_count"],
            "watching": row["watching"],
            "allowed_transitions": workflow.allowed_transitions(user.role, row["status"]),
            "permissions": permissions(user, row["reporter_id"], row["status"]),
        }
    )


async def similar_issues(
    session: AsyncSession, user: User, text: str, limit: int = 5
) -> list[SimilarIssue]:
    text = " ".join(text.split())
    if len(text) < 3:
        return []
    rows = await repository.similar(session, text, scope(user), limit)
    return [
        SimilarIssue(
            id=r["id"], title=r["title"], status=r["status"], similarity=round(r["similarity"], 3)
        )
        for r in rows
    ]


async def list_tags(
    session: AsyncSession, user: User, prefix: str | None, limit: int
) -> list[TagOut]:
    rows = await repository.list_tags(session, (prefix or "").strip() or None, scope(user), limit)
    return [TagOut(id=r["id"], name=r["name"], issue_count=r["issue_count"]) for r in rows]


async def list_events(
    session: AsyncSession, user: User, issue_id: int, cursor: str | None, limit: int
) -> EventPage:
    after = decode_id_cursor(cursor)
    items = await activity.issue_history(
        session, issue_id, after_id=after, limit=limit + 1, staff=is_staff(user)
    )
    more = len(items) > limit
    items = items[:limit]
    next_cursor = str(items[-1]["id"]) if more and items else None
    return EventPage.model_validate({"items": items, "next_cursor": next_cursor})


async def assignable_users(session: AsyncSession) -> list[UserRef]:
    """Active maintainers and admins, by name."""
    return [UserRef(id=p.id, full_name=p.full_name) for p in await users.list_staff(session)]


async def existing_issue_ids(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    """Which of these issues still exist (the worker's orphan sweep)."""
    return await repository.existing_ids(session, ids)


async def touch_for_comment(session: AsyncSession, issue_id: int) -> None:
    """Comments make an issue 'recently updated' without changing its version."""
    await repository.touch_issue(session, issue_id)
