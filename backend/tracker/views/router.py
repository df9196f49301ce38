"""Saved views of the issue list: /api/views."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from tracker.auth.dependencies import CurrentUser
from tracker.db import DbSession
from tracker.errors import problems
from tracker.inputs import INT4_MAX, JsonBodyRoute
from tracker.views import service
from tracker.views.schemas import ViewCreate, ViewOut, ViewUpdate

router = APIRouter(prefix="/views", tags=["views"], route_class=JsonBodyRoute)

ViewId = Annotated[int, Path(ge=1, le=INT4_MAX)]
EDIT_PROBLEMS = problems(
    (403, "Not the view's owner, or sharing without being staff"),
    404,
    (409, "The name is taken"),
)


@router.get("", response_model=list[ViewOut])
async def list_views(user: CurrentUser, session: DbSession) -> list[ViewOut]:
    """Your saved views, then the team's shared ones."""
    return await service.list_views(session, user)


@router.post(
    "",
    response_model=ViewOut,
    status_code=status.HTTP_201_CREATED,
    responses=problems(
        (403, "Only staff share views"), (409, "The name is taken, or too many views")
    ),
)
async def create_view(user: CurrentUser, session: DbSession, body: ViewCreate) -> ViewOut:
    """Save the list's filters, search and sort under a name."""
    return await service.create_view(session, user, body)


@router.get("/{view_id:int}", response_model=ViewOut, responses=problems(404))
async def get_view(view_id: ViewId, user: CurrentUser, session: DbSession) -> ViewOut:
    return await service.get_view(session, user, view_id)


@router.patch("/{view_id:int}", response_model=ViewOut, responses=EDIT_PROBLEMS)
async def update_view(
    view_id: ViewId, user: CurrentUser, session: DbSession, body: ViewUpdate
) -> ViewOut:
    """Rename, re-filter, share or unshare a view (its owner; an ADMIN for shared ones)."""
    return await service.update_view(session, user, view_id, body)


@router.delete(
    "/{view_id:int}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(403, 404)
)
async def delete_view(view_id: ViewId, user: CurrentUser, session: DbSession) -> Response:
    await service.delete_view(session, user, view_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
