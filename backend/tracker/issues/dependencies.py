"""Issue access: who may see and who may edit an issue, as dependencies named by capability.

A REPORTER only ever sees their own issues; for anyone else's they get 404 (not 403), so the
existence of other people's issues is not revealed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.dependencies import CurrentUser, is_staff
from tracker.db import DbSession
from tracker.errors import NotFound
from tracker.issues.models import Issue
from tracker.users.models import User


async def get_visible_issue(session: AsyncSession, user: User, issue_id: int) -> Issue:
    issue = await session.get(Issue, issue_id)
    if issue is None or not (is_staff(user) or issue.reporter_id == user.id):
        raise NotFound(f"Issue {issue_id} not found", code="issue_not_found")
    return issue


async def issue_for_viewer(
    session: DbSession, user: CurrentUser, issue_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> Issue:
    return await get_visible_issue(session, user, issue_id)


IssueForViewer = Annotated[Issue, Depends(issue_for_viewer)]
