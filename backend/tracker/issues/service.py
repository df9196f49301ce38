"""Issues: listing, reading, filing, editing (with the workflow and optimistic concurrency),
deleting. Every change writes one issue_events row in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity.service import event_values, record_event, visible_data
from tracker.attachments import service as attachments
from tracker.auth.models import User
from tracker.config import Settings
from tracker.cursors import Cursor, decode_cursor, decode_id_cursor, encode_cursor
from tracker.db import Record, in_transaction
from tracker.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)
from tracker.issues import repository, workflow
from tracker.issues.models import Issue, Status
from tracker.issues.schemas import (
    SORTS,
    EventPage,
    IssueCreate,
    IssueDetail,
    IssuePage,
    IssuePermissions,
    IssueQuery,
    IssueUpdate,
    SimilarIssue,
    TagOut,
)
from tracker.issues.snippets import snippet_html, word_pattern
from tracker.markdown import render_markdown_off_loop
from tracker.multipart import ReceivedFile
from tracker.refs import UserRef
from tracker.roles import Role, is_staff


def _not_found(issue_id: int) -> NotFound:
    return NotFound(f"Issue {issue_id} not found", code="issue_not_found")


def _scope(user: User) -> int | None:
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


def _person(user_id: int | None, name: str | None) -> dict[str, Any] | None:
    return None if user_id is None or name is None else {"id": user_id, "full_name": name}


def _summary_fields(row: Record) -> dict[str, Any]:
    """An issue row as the summary's fields, plain data: the response model validates a whole
    page in one pass, which costs far less than building each nested model in Python."""
    return {
        "id": row["id"],
        "title": row["title"],
        "status": row["status"],
        "severity": row["severity"],
        "reporter": {"id": row["reporter_id"], "full_name": row["reporter_name"]},
        "assignee": _person(row["assignee_id"], row["assignee_name"]),
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
    issue = await session.get(Issue, issue_id)
    if issue is None or not (is_staff(user) or issue.reporter_id == user.id):
        raise NotFound(f"Issue {issue_id} not found", code="issue_not_found")
    return issue


async def list_issues(session: AsyncSession, user: User, query: IssueQuery) -> IssuePage:
    text = (query.q or "").strip() or None
    if query.sort is not None and query.sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}", code="invalid_sort")
    sort = query.sort or ("rank" if text else "-created")
    assignee = _resolve_user_filter(query.assignee_id, user, allow_none=True)
    reporter = _resolve_user_filter(query.reporter_id, user, allow_none=False)
    words = await repository.search_words(session, text) if text else []
    flt = repository.ListFilter(
        statuses=query.status,
        severities=query.severity,
        # At most ten tags, as an issue can have.
        tags=[t.strip() for t in query.tag[:10] if t.strip()],
        text=text,
        assignee_id=None if assignee == "none" else assignee,
        unassigned=assignee == "none",
        reporter_id=reporter,
        scope_reporter_id=_scope(user),
        words=words,
    )
    kind: type[datetime] | type[int] | type[float] = (
        float if sort == "rank" else int if sort.lstrip("-") == "severity" else datetime
    )
    cursor: Cursor | None = decode_cursor(query.cursor, sort, kind) if query.cursor else None
    rows, key_column = await repository.list_page(
        session, flt, sort=sort, cursor=cursor, limit=query.limit
    )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = [_summary_fields(row) for row in rows]
    if text:
        pattern = word_pattern(words)
        for item, row in zip(items, rows, strict=True):
            item["snippet"] = snippet_html(row["snippet_source"], pattern)
    next_cursor = (
        encode_cursor(sort, rows[-1][key_column], rows[-1]["id"]) if more and rows else None
    )
    return IssuePage.model_validate({"items": items, "next_cursor": next_cursor})


async def get_issue(session: AsyncSession, user: User, issue_id: int) -> IssueDetail:
    row = await repository.get_detail(session, issue_id, _scope(user))
    if row is None:
        raise _not_found(issue_id)
    return IssueDetail.model_validate(
        {
            **_summary_fields(row),
            "description": row["description"],
            "description_html": row["description_html"],
            "attachment_count": row["attachment_count"],
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
    rows = await repository.similar(session, text, _scope(user), limit)
    return [
        SimilarIssue(
            id=r["id"], title=r["title"], status=r["status"], similarity=round(r["similarity"], 3)
        )
        for r in rows
    ]


async def list_tags(
    session: AsyncSession, user: User, prefix: str | None, limit: int
) -> list[TagOut]:
    rows = await repository.list_tags(session, (prefix or "").strip() or None, _scope(user), limit)
    return [TagOut(id=r["id"], name=r["name"], issue_count=r["issue_count"]) for r in rows]


async def list_events(
    session: AsyncSession, user: User, issue_id: int, cursor: str | None, limit: int
) -> EventPage:
    after = decode_id_cursor(cursor)
    rows = await repository.list_events(session, issue_id, after, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return EventPage.model_validate(
        {
            "items": [
                {
                    "id": r["id"],
                    "issue_id": r["issue_id"],
                    "actor": _person(r["actor_id"], r["actor_name"]),
                    "kind": r["kind"],
                    "data": visible_data(r["kind"], r["data"], staff=is_staff(user)),
                    "created_at": r["created_at"],
                }
                for r in rows
            ],
            "next_cursor": str(rows[-1]["id"]) if more and rows else None,
        }
    )


async def assignable_users(session: AsyncSession) -> list[UserRef]:
    return [
        UserRef(id=r["id"], full_name=r["full_name"])
        for r in await repository.assignable_users(session)
    ]


# ---- writing ---------------------------------------------------------------------------


async def create_issue(
    session: AsyncSession,
    user: User,
    data: IssueCreate,
    files: Sequence[ReceivedFile] = (),
    *,
    settings: Settings,
) -> IssueDetail:
    """File an issue, with its files if any, all in the caller's one transaction: a refused file
    (type, size, count) raises, and the rollback leaves neither the issue nor a file behind."""
    description_html = await render_markdown_off_loop(data.description)
    values = {
        "title": data.title,
        "description": data.description,
        "description_html": description_html,
        "severity": data.severity,
        "status": Status.OPEN,
        "reporter_id": user.id,
    }
    created = {"title": data.title, "severity": data.severity.value, "tags": sorted(data.tags)}
    row: Record | None = None
    if not files and not await in_transaction(session):
        # The usual case — no files, every tag known — is one statement with its event, and
        # no transaction around it (four round trips fewer); a new tag falls through to below.
        event = event_values(
            issue_id=None, reporter_id=user.id, actor_id=user.id, kind="issue.created", data=created
        )
        row = await repository.insert_issue_alone(session, values, data.tags, event)
    if row is None:
        row = await _insert_in_transaction(session, user, values, data.tags, created)
    issue_id: int = row["id"]
    added = await attachments.add_uploads(
        session,
        attachments.IssueRef(id=issue_id, reporter_id=user.id),
        list(files),
        user,
        settings=settings,
    )
    return IssueDetail(
        id=issue_id,
        title=data.title,
        status=row["status"],
        severity=data.severity,
        reporter=UserRef(id=user.id, full_name=user.full_name),
        assignee=None,
        tags=sorted(data.tags),
        comment_count=0,
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        resolved_at=None,
        description=data.description,
        description_html=description_html,
        attachment_count=len(added),
        allowed_transitions=workflow.allowed_transitions(user.role, row["status"]),
        permissions=permissions(user, user.id, row["status"]),
    )


async def _insert_in_transaction(
    session: AsyncSession,
    user: User,
    values: dict[str, Any],
    tags: list[str],
    created: dict[str, Any],
) -> Record:
    """The issue, its tags (creating new ones) and its event, in the request's transaction."""
    row = await repository.insert_issue(session, values, tags)
    if row["tagged"] < len(tags):
        # A tag nobody has used yet: create it (the others were attached already).
        await repository.add_issue_tags(
            session, row["id"], await repository.ensure_tags(session, tags)
        )
    await record_event(
        session,
        issue_id=row["id"],
        reporter_id=user.id,
        actor_id=user.id,
        kind="issue.created",
        data=created,
    )
    return row


def _check_may_edit(user: User, fields: set[str], current: Record) -> None:
    staff_only = fields & {"status", "assignee_id", "tags"}
    if staff_only and not is_staff(user):
        raise Forbidden(
            f"Only maintainers can change {', '.join(sorted(staff_only))}",
            code="staff_only_field",
        )
    if (
        fields & {"title", "description", "severity"}
        and not is_staff(user)
        and current["status"] != Status.OPEN
    ):
        raise Forbidden(
            "This issue is no longer open: only maintainers can edit it now",
            code="issue_locked",
        )


async def _assignee_change(
    session: AsyncSession, old_id: int | None, new_id: int | None
) -> list[dict[str, Any] | None]:
    people = await repository.users_by_id(session, [i for i in (old_id, new_id) if i])
    if new_id is not None:
        new = people.get(new_id)
        if new is None or not new["is_active"] or new["role"] == Role.REPORTER:
            raise Unprocessable(
                "The assignee must be an active maintainer or admin",
                code="invalid_assignee",
                errors=[{"field": "assignee_id", "message": "not an active maintainer or admin"}],
            )

    def ref(i: int | None) -> dict[str, Any] | None:
        if i is None:
            return None
        person = people.get(i)
        return {"id": i, "full_name": person["full_name"] if person else None}

    return [ref(old_id), ref(new_id)]


async def update_issue(
    session: AsyncSession, user: User, issue_id: int, version: int, patch: IssueUpdate
) -> IssueDetail:
    current = await repository.lock_for_update(session, issue_id)
    if current is None or not (is_staff(user) or current["reporter_id"] == user.id):
        raise _not_found(issue_id)
    fields = set(patch.model_fields_set)
    _check_may_edit(user, fields, current)
    if version != current["version"]:
        raise PreconditionFailed(
            "This issue changed since you loaded it: reload it and apply your change again",
            code="version_mismatch",
            current_version=current["version"],
        )

    values: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for name in ("title", "description", "severity"):
        if name in fields and getattr(patch, name) != current[name]:
            values[name] = getattr(patch, name)
            changes[name] = [current[name], values[name]]
    if "description" in values:
        values["description_html"] = await render_markdown_off_loop(values["description"])

    if "status" in fields and patch.status != current["status"]:
        target = patch.status
        assert isinstance(target, Status)
        status = Status(current["status"])
        if not workflow.can_transition(user.role, status, target):
            allowed = workflow.allowed_transitions(user.role, status)
            raise Conflict(
                f"An issue that is {status.value} cannot move to {target.value}; "
                f"allowed: {', '.join(s.value for s in allowed) or 'none'}",
                code="invalid_transition",
                allowed=[s.value for s in allowed],
                current=status.value,
            )
        values["status"] = target
        values["resolved_at"] = repository.NOW if target == Status.DONE else None
        changes["status"] = [current["status"], target]

    if "assignee_id" in fields and patch.assignee_id != current["assignee_id"]:
        changes["assignee"] = await _assignee_change(
            session, current["assignee_id"], patch.assignee_id
        )
        values["assignee_id"] = patch.assignee_id

    new_tags: list[str] | None = None
    if "tags" in fields and patch.tags is not None:
        old_tags = await repository.tag_names(session, issue_id)
        if sorted(patch.tags) != sorted(t.lower() for t in old_tags):
            new_tags = patch.tags
            changes["tags"] = [sorted(old_tags), sorted(new_tags)]

    if changes:
        new_version = await repository.update_issue(session, issue_id, current["version"], values)
        if new_version is None:  # the row is locked, so only a bug gets here
            raise PreconditionFailed("This issue changed meanwhile", code="version_mismatch")
        if new_tags is not None:
            await repository.set_issue_tags(
                session, issue_id, await repository.ensure_tags(session, new_tags)
            )
        await record_event(
            session,
            issue_id=issue_id,
            reporter_id=current["reporter_id"],
            actor_id=user.id,
            kind="issue.updated",
            data={"changes": _jsonable(changes)},
        )
    return await get_issue(session, user, issue_id)


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        return v.value if isinstance(v, StrEnum) else v

    return {k: [plain(v) for v in pair] for k, pair in changes.items()}


async def delete_issue(
    session: AsyncSession, user: User, issue_id: int, *, settings: Settings
) -> None:
    """Delete an issue; its comments and attachment rows go with it (ON DELETE CASCADE), its
    events stay as history, and its files are removed once the deletion has committed."""
    current = await repository.lock_for_update(session, issue_id)
    if current is None:
        raise _not_found(issue_id)
    await attachments.delete_issue_files(session, issue_id, settings=settings)
    await record_event(
        session,
        issue_id=issue_id,
        reporter_id=current["reporter_id"],
        actor_id=user.id,
        kind="issue.deleted",
        data={"title": current["title"], "status": str(current["status"])},
        exists=False,
    )
    await repository.delete_issue(session, issue_id)


async def existing_issue_ids(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    """Which of these issues still exist (the worker's orphan sweep)."""
    return await repository.existing_ids(session, ids)


async def touch_for_comment(session: AsyncSession, issue_id: int) -> None:
    """Comments make an issue 'recently updated' without changing its version."""
    await repository.touch_issue(session, issue_id)
