"""Many issues changed at once: each one as a PATCH of it alone would change it (the same
rules, the workflow, the same event), each in its own savepoint, so one refusal leaves the
others applied and itself untouched."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.models import User
from tracker.errors import TrackerError, Unprocessable
from tracker.issues import repository, tags
from tracker.issues.changes import update_issue
from tracker.issues.schemas import (
    MAX_TAGS,
    BulkApplied,
    BulkRefused,
    BulkResult,
    BulkUpdate,
    IssueUpdate,
)
from tracker.issues.service import not_found
from tracker.roles import is_staff


async def _patch_for(session: AsyncSession, issue_id: int, request: BulkUpdate) -> dict[str, Any]:
    changes = request.changes
    patch: dict[str, Any] = {
        name: getattr(changes, name)
        for name in ("status", "severity", "assignee_id")
        if name in changes.model_fields_set
    }
    if changes.model_fields_set & {"add_tags", "remove_tags"}:
        removed = set(changes.remove_tags)
        current = [t.lower() for t in await tags.tag_names(session, issue_id)]
        patch["tags"] = [
            t for t in dict.fromkeys([*current, *changes.add_tags]) if t not in removed
        ]
        if len(patch["tags"]) > MAX_TAGS:
            raise Unprocessable(
                f"An issue carries at most {MAX_TAGS} tags; this one would have "
                f"{len(patch['tags'])}",
                code="too_many_tags",
            )
    return patch


async def bulk_update(session: AsyncSession, user: User, request: BulkUpdate) -> BulkResult:
    applied: list[BulkApplied] = []
    refused: list[BulkRefused] = []
    for issue_id in dict.fromkeys(request.issue_ids):
        try:
            async with session.begin_nested():
                current = await repository.lock_for_update(session, issue_id)
                if current is None or not (is_staff(user) or current["reporter_id"] == user.id):
                    raise not_found(issue_id)
                patch = IssueUpdate.model_validate(await _patch_for(session, issue_id, request))
                issue = await update_issue(session, user, issue_id, current["version"], patch)
        except TrackerError as refusal:
            refused.append(
                BulkRefused(
                    id=issue_id, status=refusal.status, code=refusal.code, detail=refusal.detail
                )
            )
        else:
            applied.append(
                BulkApplied(
                    id=issue_id, version=issue.version, changed=issue.version != current["version"]
                )
            )
    return BulkResult(applied=applied, refused=refused)
