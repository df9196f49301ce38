"""SQL for comments: one statement per page, RETURNING on writes."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.models import User
from tracker.comments.models import Comment
from tracker.issues.models import Issue

_COLUMNS = (
    Comment.id,
    Comment.issue_id,
    Comment.author_id,
    User.full_name.label("author_name"),
    Comment.body,
    Comment.body_html,
    Comment.created_at,
    Comment.updated_at,
)


async def list_page(
    session: AsyncSession, issue_id: int, after_id: int | None, limit: int
) -> list[RowMapping]:
    # Ids grow with time, so id order is posting order and a stable keyset.
    stmt = (
        select(*_COLUMNS)
        .join(User, User.id == Comment.author_id)
        .where(Comment.issue_id == issue_id)
        .order_by(Comment.id)
        .limit(limit + 1)
    )
    if after_id is not None:
        stmt = stmt.where(Comment.id > after_id)
    return list((await session.execute(stmt)).mappings())


async def get_with_issue(session: AsyncSession, comment_id: int) -> RowMapping | None:
    stmt = (
        select(*_COLUMNS, Issue.reporter_id)
        .join(User, User.id == Comment.author_id)
        .join(Issue, Issue.id == Comment.issue_id)
        .where(Comment.id == comment_id)
    )
    return (await session.execute(stmt)).mappings().one_or_none()


async def insert_comment(
    session: AsyncSession, issue_id: int, author_id: int, body: str, body_html: str
) -> RowMapping:
    stmt = (
        insert(Comment)
        .values(issue_id=issue_id, author_id=author_id, body=body, body_html=body_html)
        .returning(Comment.id, Comment.created_at, Comment.updated_at)
    )
    return (await session.execute(stmt)).mappings().one()


async def update_body(
    session: AsyncSession, comment_id: int, body: str, body_html: str
) -> RowMapping:
    stmt = (
        update(Comment)
        .where(Comment.id == comment_id)
        .values(body=body, body_html=body_html, updated_at=func.now())
        .returning(Comment.updated_at)
    )
    return (await session.execute(stmt)).mappings().one()


async def delete_comment(session: AsyncSession, comment_id: int) -> None:
    await session.execute(delete(Comment).where(Comment.id == comment_id))
