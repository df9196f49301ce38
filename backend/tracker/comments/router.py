"""Comment endpoints: the thread of an issue, and editing or deleting one comment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from tracker.auth.dependencies import CurrentUser
from tracker.comments import service
from tracker.comments.dependencies import CommentForEditor
from tracker.comments.schemas import CommentIn, CommentOut, CommentPage
from tracker.db import DbSession
from tracker.errors import problems
from tracker.inputs import ID_CURSOR, JsonBodyRoute
from tracker.issues.dependencies import IssueForViewer

router = APIRouter(tags=["comments"], route_class=JsonBodyRoute)


@router.get(
    "/issues/{issue_id:int}/comments",
    response_model=CommentPage,
    summary="An issue's comments",
    responses=problems((400, "The cursor is not one this listing handed out"), 404),
)
async def list_comments(
    session: DbSession,
    user: CurrentUser,
    issue: IssueForViewer,
    cursor: Annotated[str | None, Query(json_schema_extra=ID_CURSOR)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> CommentPage:
    return await service.list_comments(session, user, issue.id, cursor, limit)


@router.post(
    "/issues/{issue_id:int}/comments",
    response_model=CommentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Comment on an issue",
    responses=problems(404),
)
async def add_comment(
    session: DbSession, user: CurrentUser, issue: IssueForViewer, body: CommentIn
) -> CommentOut:
    return await service.add_comment(session, user, issue.id, issue.reporter_id, body.body)


@router.patch(
    "/comments/{comment_id:int}",
    response_model=CommentOut,
    summary="Edit a comment",
    responses=problems((403, "Only the author (or an admin) may change it"), 404),
)
async def edit_comment(
    session: DbSession, user: CurrentUser, comment: CommentForEditor, body: CommentIn
) -> CommentOut:
    return await service.edit_comment(session, user, comment, body.body)


@router.delete(
    "/comments/{comment_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a comment",
    responses=problems((403, "Only the author (or an admin) may delete it"), 404),
)
async def delete_comment(
    session: DbSession, user: CurrentUser, comment: CommentForEditor
) -> Response:
    await service.delete_comment(session, user, comment)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
