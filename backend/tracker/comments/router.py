"""Comment endpoints: the thread of an issue, and editing or deleting one comment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from tracker.auth.dependencies import CurrentUser
from tracker.comments import service
from tracker.comments.dependencies import CommentForEditor
from tracker.comments.schemas import CommentIn, CommentOut, CommentPage
from tracker.db import DbSession
from tracker.issues.dependencies import IssueForViewer

router = APIRouter(tags=["comments"])


@router.get(
    "/issues/{issue_id}/comments", response_model=CommentPage, summary="An issue's comments"
)
async def list_comments(
    session: DbSession,
    user: CurrentUser,
    issue: IssueForViewer,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> CommentPage:
    return await service.list_comments(session, user, issue.id, cursor, limit)


@router.post(
    "/issues/{issue_id}/comments",
    response_model=CommentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Comment on an issue",
)
async def add_comment(
    session: DbSession, user: CurrentUser, issue: IssueForViewer, body: CommentIn
) -> CommentOut:
    return await service.add_comment(session, user, issue.id, issue.reporter_id, body.body)


@router.patch("/comments/{comment_id}", response_model=CommentOut, summary="Edit a comment")
async def edit_comment(
    session: DbSession, user: CurrentUser, comment: CommentForEditor, body: CommentIn
) -> CommentOut:
    return await service.edit_comment(session, user, comment, body.body)


@router.delete(
    "/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a comment"
)
async def delete_comment(
    session: DbSession, user: CurrentUser, comment: CommentForEditor
) -> Response:
    await service.delete_comment(session, user, comment)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
