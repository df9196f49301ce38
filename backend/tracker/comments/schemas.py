"""Comment bodies in and out."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from tracker.inputs import NUL_FREE
from tracker.refs import UserRef

Body = Annotated[str, StringConstraints(min_length=1, max_length=20_000, pattern=NUL_FREE)]


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    body: Body


class CommentOut(BaseModel):
    id: int
    issue_id: int
    author: UserRef
    body: str
    body_html: str
    created_at: datetime
    updated_at: datetime
    edited: bool
    can_edit: bool
    can_delete: bool


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None
