"""Saved views: anyone keeps their own; staff share theirs with the team. A view only stores
filters: whoever opens one sees the issues they may see, as on the list."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.models import User
from tracker.errors import Conflict, Forbidden, NotFound
from tracker.issues.schemas import IssueFilters
from tracker.refs import UserRef
from tracker.roles import Role, is_staff
from tracker.views import repository
from tracker.views.models import SavedView
from tracker.views.schemas import ViewCreate, ViewOut, ViewUpdate

MAX_VIEWS_PER_PERSON = 100


def _editable(user: User, view: SavedView) -> bool:
    return view.owner_id == user.id or (view.shared and user.role == Role.ADMIN)


def _out(user: User, view: SavedView, owner: User) -> ViewOut:
    return ViewOut(
        id=view.id,
        name=view.name,
        filters=IssueFilters.model_validate(view.filters),
        shared=view.shared,
        owner=UserRef(id=owner.id, full_name=owner.full_name),
        editable=_editable(user, view),
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def _stored(filters: IssueFilters) -> dict[str, Any]:
    return filters.model_dump(mode="json", exclude_defaults=True)


def _check_sharing(user: User, shared: bool) -> None:
    if shared and not is_staff(user):
        raise Forbidden("Only maintainers and admins share views with the team", code="staff_only")


async def _check_name(
    session: AsyncSession, owner_id: int, name: str, except_id: int | None = None
) -> None:
    if await repository.name_taken(session, owner_id, name, except_id=except_id):
        raise Conflict(f"You already have a view named {name!r}", code="view_name_taken")


async def list_views(session: AsyncSession, user: User) -> list[ViewOut]:
    return [_out(user, view, owner) for view, owner in await repository.visible(session, user.id)]


async def get_view(session: AsyncSession, user: User, view_id: int) -> ViewOut:
    found = await repository.get_visible(session, user.id, view_id)
    if found is None:
        raise NotFound(f"View {view_id} not found", code="view_not_found")
    return _out(user, *found)


async def create_view(session: AsyncSession, user: User, body: ViewCreate) -> ViewOut:
    _check_sharing(user, body.shared)
    if await repository.count_owned(session, user.id) >= MAX_VIEWS_PER_PERSON:
        raise Conflict(
            f"You have {MAX_VIEWS_PER_PERSON} views, the most one person keeps: delete one first",
            code="too_many_views",
        )
    await _check_name(session, user.id, body.name)
    view = SavedView(
        owner_id=user.id, name=body.name, filters=_stored(body.filters), shared=body.shared
    )
    session.add(view)
    await session.flush()
    await session.refresh(view)
    return _out(user, view, user)


async def _editable_view(session: AsyncSession, user: User, view_id: int) -> tuple[SavedView, User]:
    found = await repository.get_visible(session, user.id, view_id, lock=True)
    if found is None:
        raise NotFound(f"View {view_id} not found", code="view_not_found")
    if not _editable(user, found[0]):
        raise Forbidden("Only the person who saved this view can change it", code="not_view_owner")
    return found


async def update_view(session: AsyncSession, user: User, view_id: int, body: ViewUpdate) -> ViewOut:
    view, owner = await _editable_view(session, user, view_id)
    fields = body.model_fields_set
    if "shared" in fields:
        _check_sharing(user, bool(body.shared))
        view.shared = bool(body.shared)
    if "name" in fields and isinstance(body.name, str):
        await _check_name(session, view.owner_id, body.name, except_id=view.id)
        view.name = body.name
    if "filters" in fields and isinstance(body.filters, IssueFilters):
        view.filters = _stored(body.filters)
    await session.flush()
    await session.refresh(view)
    return _out(user, view, owner)


async def delete_view(session: AsyncSession, user: User, view_id: int) -> None:
    view, _owner = await _editable_view(session, user, view_id)
    await session.delete(view)
    await session.flush()
