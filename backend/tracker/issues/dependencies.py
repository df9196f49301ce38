"""Issue access: who may see and who may edit an issue, as dependencies named by capability.

A REPORTER only ever sees their own issues; for anyone else's they get 404 (not 403), so the
existence of other people's issues is not revealed.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Header, Path
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.dependencies import CurrentUser, is_staff
from tracker.db import DbSession
from tracker.errors import NotFound, PreconditionFailed, PreconditionRequired
from tracker.issues.models import Issue
from tracker.users.models import User

IssueId = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def get_visible_issue(session: AsyncSession, user: User, issue_id: int) -> Issue:
    issue = await session.get(Issue, issue_id)
    if issue is None or not (is_staff(user) or issue.reporter_id == user.id):
        raise NotFound(f"Issue {issue_id} not found", code="issue_not_found")
    return issue


async def issue_for_viewer(session: DbSession, user: CurrentUser, issue_id: IssueId) -> Issue:
    return await get_visible_issue(session, user, issue_id)


IssueForViewer = Annotated[Issue, Depends(issue_for_viewer)]

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_version(
    if_match: Annotated[
        str | None,
        Header(
            description='The version the change is based on, as the ETag gave it: "3"',
            examples=['"3"'],
        ),
    ] = None,
) -> int:
    """The issue version a write is based on; writes without one are refused (lost updates)."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            'Send If-Match with the version you loaded (the ETag, e.g. "3")',
            code="if_match_required",
        )
    match = _ETAG.match(if_match)
    if match is None:
        raise PreconditionFailed(
            "If-Match does not name a version of this issue", code="version_mismatch"
        )
    return int(match.group(1))


IfMatchVersion = Annotated[int, Depends(if_match_version)]
