"""Issues: filing (with files, through the IssueFiles port), editing (with the workflow and
optimistic concurrency) and deleting. Every change writes one issue_events row in the same
transaction."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity.service import event_values, record_event
from tracker.auth.models import User
from tracker.db import Record, in_transaction
from tracker.errors import Conflict, Forbidden, PreconditionFailed, Unprocessable
from tracker.issues import filing, repository, tags, workflow
from tracker.issues.files import IssueFiles
from tracker.issues.models import Status
from tracker.issues.schemas import IssueCreate, IssueDetail, IssueUpdate
from tracker.issues.service import get_issue, not_found, permissions
from tracker.markdown import render_markdown_off_loop
from tracker.multipart import ReceivedFile
from tracker.refs import UserRef
from tracker.roles import Role, is_staff
from tracker.users import service as users


async def create_issue(
    session: AsyncSession,
    user: User,
    data: IssueCreate,
    uploads: Sequence[ReceivedFile] = (),
    *,
    files: IssueFiles,
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
    if not uploads and not await in_transaction(session):
        # The usual case — no files, every tag known — is one statement with its event, and
        # no transaction around it (four round trips fewer); a new tag falls through to below.
        event = event_values(
            issue_id=None, reporter_id=user.id, actor_id=user.id, kind="issue.created", data=created
        )
        row = await filing.insert_issue_alone(session, values, data.tags, event)
    if row is None:
        row = await _insert_in_transaction(session, user, values, data.tags, created)
    issue_id: int = row["id"]
    attached = await files.store_with_new_issue(session, issue_id, user, uploads) if uploads else 0
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
        attachment_count=attached,
        watching=True,  # the reporter watches what they file
        allowed_transitions=workflow.allowed_transitions(user.role, row["status"]),
        permissions=permissions(user, user.id, row["status"]),
    )


async def _insert_in_transaction(
    session: AsyncSession,
    user: User,
    values: dict[str, Any],
    tag_names: list[str],
    created: dict[str, Any],
) -> Record:
    """The issue, its tags (creating new ones) and its event, in the request's transaction."""
    row = await filing.insert_issue(session, values, tag_names)
    if row["tagged"] < len(tag_names):
        # A tag nobody has used yet: create it (the others were attached already).
        await tags.add_issue_tags(session, row["id"], await tags.ensure_tags(session, tag_names))
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
    people = await users.people_by_id(session, [i for i in (old_id, new_id) if i])
    if new_id is not None:
        new = people.get(new_id)
        if new is None or not new.is_active or new.role == Role.REPORTER:
            raise Unprocessable(
                "The assignee must be an active maintainer or admin",
                code="invalid_assignee",
                errors=[{"field": "assignee_id", "message": "not an active maintainer or admin"}],
            )

    def ref(i: int | None) -> dict[str, Any] | None:
        if i is None:
            return None
        person = people.get(i)
        return {"id": i, "full_name": person.full_name if person else None}

    return [ref(old_id), ref(new_id)]


async def update_issue(
    session: AsyncSession, user: User, issue_id: int, version: int, patch: IssueUpdate
) -> IssueDetail:
    current = await repository.lock_for_update(session, issue_id)
    if current is None or not (is_staff(user) or current["reporter_id"] == user.id):
        raise not_found(issue_id)
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
        old_tags = await tags.tag_names(session, issue_id)
        if sorted(patch.tags) != sorted(t.lower() for t in old_tags):
            new_tags = patch.tags
            changes["tags"] = [sorted(old_tags), sorted(new_tags)]

    if changes:
        new_version = await repository.update_issue(session, issue_id, current["version"], values)
        if new_version is None:  # the row is locked, so only a bug gets here
            raise PreconditionFailed("This issue changed meanwhile", code="version_mismatch")
        if new_tags is not None:
            await tags.set_issue_tags(session, issue_id, await tags.ensure_tags(session, new_tags))
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
    session: AsyncSession, user: User, issue_id: int, *, files: IssueFiles
) -> None:
    """Delete an issue; its comments and attachment rows go with it (ON DELETE CASCADE), its
    events stay as history, and its files are removed once the deletion has committed."""
    current = await repository.lock_for_update(session, issue_id)
    if current is None:
        raise not_found(issue_id)
    await files.remove_after_deletion(session, issue_id)
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
