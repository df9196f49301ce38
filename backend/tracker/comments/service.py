"""Comments on issues: Markdown rendered to safe HTML, every change in the issue's history."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.activity.service import forget_comment_text, record_event
from tracker.auth.models import User
from tracker.comments import repository
from tracker.comments.schemas import CommentOut, CommentPage
from tracker.cursors import decode_id_cursor
from tracker.issues import service as issues
from tracker.markdown import render_markdown_off_loop
from tracker.refs import UserRef
from tracker.roles import Role


def may_change(user: User, author_id: int) -> bool:
    """Authors edit and delete their own comments; an ADMIN any comment."""
    return user.role == Role.ADMIN or author_id == user.id


def _out(row: Mapping[Any, Any], user: User) -> CommentOut:
    allowed = may_change(user, row["author_id"])
    return CommentOut(
        id=row["id"],
        issue_id=row["issue_id"],
        author=UserRef(id=row["author_id"], full_name=row["author_name"]),
        body=row["body"],
        body_html=row["body_html"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        edited=row["updated_at"] > row["created_at"],
        can_edit=allowed,
        can_delete=allowed,
    )


async def list_comments(
    session: AsyncSession, user: User, issue_id: int, cursor: str | None, limit: int
) -> CommentPage:
    after = decode_id_cursor(cursor)
    rows = await repository.list_page(session, issue_id, after, limit)
    more = len(rows) > limit
    rows = rows[:limit]
    return CommentPage(
        items=[_out(r, user) for r in rows],
        next_cursor=str(rows[-1]["id"]) if more and rows else None,
    )


async def add_comment(
    session: AsyncSession, user: User, issue_id: int, reporter_id: int, body: str
) -> CommentOut:
    html = await render_markdown_off_loop(body)
    row = await repository.insert_comment(session, issue_id, user.id, body, html)
    await issues.touch_for_comment(session, issue_id)
    await record_event(
        session,
        issue_id=issue_id,
        reporter_id=reporter_id,
        actor_id=user.id,
        kind="comment.created",
        data={"comment_id": row["id"]},
    )
    return CommentOut(
        id=row["id"],
        issue_id=issue_id,
        author=UserRef(id=user.id, full_name=user.full_name),
        body=body,
        body_html=html,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        edited=False,
        can_edit=True,
        can_delete=True,
    )


async def edit_comment(
    session: AsyncSession, user: User, comment: RowMapping, body: str
) -> CommentOut:
    if body == comment["body"]:
        return _out(comment, user)
    html = await render_markdown_off_loop(body)
    row = await repository.update_body(session, comment["id"], body, html)
    await record_event(
        session,
        issue_id=comment["issue_id"],
        reporter_id=comment["reporter_id"],
        actor_id=user.id,
        kind="comment.updated",
        data={"comment_id": comment["id"], "changes": {"body": [comment["body"], body]}},
    )
    return _out({**comment, "body": body, "body_html": html, "updated_at": row["updated_at"]}, user)


async def delete_comment(session: AsyncSession, user: User, comment: RowMapping) -> None:
    await repository.delete_comment(session, comment["id"])
    await record_event(
        session,
        issue_id=comment["issue_id"],
        reporter_id=comment["reporter_id"],
        actor_id=user.id,
        kind="comment.deleted",
        data={"comment_id": comment["id"], "author_id": comment["author_id"]},
    )
    await forget_comment_text(session, comment["issue_id"], comment["id"])


async def get_comment(session: AsyncSession, comment_id: int) -> RowMapping | None:
    return await repository.get_with_issue(session, comment_id)
