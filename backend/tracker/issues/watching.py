"""Who watches an issue: its reporter and assignee, and anyone who chose to or who commented or
was mentioned or assigned, less anyone who chose not to. A choice, either way, is a row; the
reporter and assignee need none."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam, false, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.issues.models import Issue, IssueWatch


def watching_column(issue_id: Any, reporter_id: Any, assignee_id: Any) -> ColumnElement[bool]:
    """Whether `:viewer_id` watches the issue, for a statement over `issues`."""
    viewer = bindparam("viewer_id", type_=Integer)
    chosen = (
        select(IssueWatch.watching)
        .where(IssueWatch.issue_id == issue_id, IssueWatch.user_id == viewer)
        .scalar_subquery()
    )
    return func.coalesce(chosen, or_(reporter_id == viewer, assignee_id == viewer), false())


async def watchers(session: AsyncSession, issue_id: int) -> set[int]:
    issue = (
        await session.execute(
            select(Issue.reporter_id, Issue.assignee_id).where(Issue.id == issue_id)
        )
    ).one_or_none()
    if issue is None:
        return set()
    stmt = select(IssueWatch.user_id, IssueWatch.watching).where(IssueWatch.issue_id == issue_id)
    chosen: dict[int, bool] = dict((await session.execute(stmt)).all())
    implicit = {uid for uid in (issue.reporter_id, issue.assignee_id) if uid is not None}
    return {uid for uid in implicit if chosen.get(uid, True)} | {
        uid for uid, on in chosen.items() if on
    }


async def is_watching(
    session: AsyncSession, issue_id: int, user_id: int, *, reporter_id: int, assignee_id: int | None
) -> bool:
    stmt = select(IssueWatch.watching).where(
        IssueWatch.issue_id == issue_id, IssueWatch.user_id == user_id
    )
    chosen = (await session.execute(stmt)).scalar_one_or_none()
    if chosen is not None:
        return bool(chosen)
    return user_id in (reporter_id, assignee_id)


async def set_watching(session: AsyncSession, issue_id: int, user_id: int, watching: bool) -> None:
    stmt = insert(IssueWatch).values(issue_id=issue_id, user_id=user_id, watching=watching)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[IssueWatch.issue_id, IssueWatch.user_id],
            set_={"watching": stmt.excluded.watching},
        )
    )


async def watch_automatically(session: AsyncSession, issue_id: int, user_ids: set[int]) -> None:
    """Start these people watching, unless they chose not to."""
    if not user_ids:
        return
    stmt = insert(IssueWatch).values(
        [{"issue_id": issue_id, "user_id": uid, "watching": True} for uid in sorted(user_ids)]
    )
    await session.execute(stmt.on_conflict_do_nothing())
