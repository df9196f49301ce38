"""Accounts as authentication knows them: made at sign-up, by an external sign-in or by the CLI,
and found by id or e-mail address. Managing people (listing, roles) is the users domain's."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth import repository
from tracker.auth.models import User
from tracker.auth.passwords import hash_password_off_loop, policy_problem
from tracker.errors import Conflict, Unprocessable
from tracker.roles import Role


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
    if await repository.get_user_by_email(session, email):
        raise Conflict("An account with this e-mail address already exists", code="email_taken")
    password_hash = await hash_password_off_loop(password) if password is not None else None
    user = repository.add_user(
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
    return await repository.get_user(session, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await repository.get_user_by_email(session, email)


async def count_with_role(session: AsyncSession, role: Role) -> int:
    return await repository.count_users_with_role(session, role)
