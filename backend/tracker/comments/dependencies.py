"""Comment access by capability: seeing a comment follows its issue; changing it needs the
author (or an ADMIN)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy.engine import RowMapping

from tracker.auth.dependencies import CurrentUser
from tracker.comments import service
from tracker.db import DbSession
from tracker.errors import Forbidden, NotFound
from tracker.roles import is_staff


async def comment_for_editor(
    session: DbSession, user: CurrentUser, comment_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> RowMapping:
    comment = await service.get_comment(session, comment_id)
    if comment is None or not (is_staff(user) or comment["reporter_id"] == user.id):
        raise NotFound(f"Comment {comment_id} not found", code="comment_not_found")
    if not service.may_change(user, comment["author_id"]):
        raise Forbidden(
            "Only the author (or an admin) can change this comment", code="not_comment_author"
        )
    return comment


CommentForEditor = Annotated[RowMapping, Depends(comment_for_editor)]
