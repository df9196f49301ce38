from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth import accounts
from tracker.auth import sessions as auth_sessions
from tracker.auth.models import User
from tracker.errors import Conflict, NotFound
from tracker.roles import Role
from tracker.users import repository
from tracker.users.schemas import ProfileUpdate, StaffMember, UserOut, UserPage, UserUpdate


async def list_users(
    session: AsyncSession,
    *,
    role: Role | None = None,
    is_active: bool | None = None,
    q: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> UserPage:
    rows, total = await repository.list_page(
        session, role=role, is_active=is_active, q=q, limit=limit, offset=offset
    )
    return UserPage(
        items=[UserOut.model_validate(row, from_attributes=True) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


async def list_staff(session: AsyncSession) -> list[StaffMember]:
    rows = await repository.list_staff(session)
    return [StaffMember.model_validate(row, from_attributes=True) for row in rows]


async def people_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, User]:
    """These users (the ones that exist) by id, active or not: whom a change names."""
    return {user.id: user for user in await repository.by_ids(session, ids)}


async def update_user(
    session: AsyncSession, *, actor: User, user_id: int, changes: UserUpdate
) -> UserOut:
    """An admin changes someone's role or active flag, keeping at least one active ADMIN at
    all times. A deactivated account's sign-in sessions end with it, so reactivating it later
    does not bring old refresh tokens back to life."""
    # The actor's own row is locked too when they edit themselves: order locks admins first.
    admin_ids = await repository.lock_active_admin_ids(session)
    user = await repository.lock(session, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist", code="user_not_found")

    new_role = changes.role if changes.role is not None else user.role
    new_active = changes.is_active if changes.is_active is not None else user.is_active
    loses_admin = (
        user.role == Role.ADMIN and user.is_active and (new_role != Role.ADMIN or not new_active)
    )
    if loses_admin and user.id == actor.id:
        raise Conflict(
            "You cannot remove your own administrator access; ask another admin",
            code="cannot_demote_self",
        )
    if loses_admin and admin_ids == [user.id]:
        raise Conflict(
            "This is the last active admin: make someone else an admin first",
            code="last_admin",
        )

    deactivated = user.is_active and not new_active
    user.role = new_role
    user.is_active = new_active
    if changes.username is not None and changes.username != user.username:
        await accounts.check_handle(session, changes.username, owner=user.id)
        user.username = changes.username
    await session.flush()
    if deactivated:
        await auth_sessions.end_all_sessions(session, user.id)
    return UserOut.model_validate(user)


async def update_profile(session: AsyncSession, *, user_id: int, changes: ProfileUpdate) -> UserOut:
    user = await repository.lock(session, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist", code="user_not_found")
    if changes.username is not None and changes.username != user.username:
        await accounts.check_handle(session, changes.username, owner=user.id)
        user.username = changes.username
    if changes.full_name is not None:
        user.full_name = changes.full_name.strip()
    await session.flush()
    return UserOut.model_validate(user)
