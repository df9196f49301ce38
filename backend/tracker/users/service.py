from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.passwords import hash_password_off_loop, policy_problem
from tracker.errors import Conflict, NotFound, Unprocessable
from tracker.roles import Role
from tracker.users import repository
from tracker.users.models import User
from tracker.users.schemas import StaffMember, UserOut, UserPage, UserUpdate


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str | None,
    full_name: str,
    role: Role = Role.REPORTER,
) -> User:
    """Create an account. The caller decides the role; public sign-up always passes REPORTER."""
    email = email.strip()
    if password is not None:
        problem = policy_problem(password, email=email)
        if problem:
            raise Unprocessable(problem, code="weak_password")
    if await repository.get_by_email(session, email):
        raise Conflict("An account with this e-mail address already exists", code="email_taken")
    password_hash = await hash_password_off_loop(password) if password is not None else None
    user = repository.add(
        session,
        User(
            email=email,
            full_name=full_name.strip() or email.split("@")[0],
            password_hash=password_hash,
            role=role,
            is_active=True,
        ),
    )
    await session.flush()
    return user


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await repository.get(session, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await repository.get_by_email(session, email)


async def count_with_role(session: AsyncSession, role: Role) -> int:
    return await repository.count_by_role(session, role)


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


async def update_user(
    session: AsyncSession, *, actor: User, user_id: int, changes: UserUpdate
) -> tuple[UserOut, bool]:
    """Change a user's role or active flag, keeping at least one active ADMIN at all times.
    Returns the user and whether this change deactivated them (their sign-in sessions are then
    the auth service's to end: `auth.service.update_user_access`)."""
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
    await session.flush()
    return UserOut.model_validate(user), deactivated
