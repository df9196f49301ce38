"""Accounts as authentication knows them: made at sign-up, by an external sign-in or by the CLI,
and found by id or e-mail address. Managing people (listing, roles) is the users domain's."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth import repository
from tracker.auth.handles import first_free, handle_from_email, handle_problem
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
    username: str | None = None,
) -> User:
    """Create an account. The caller decides the role; public sign-up always passes REPORTER.
    Without a chosen username the e-mail address suggests one, with a suffix if it is taken."""
    email = email.strip()
    if password is not None:
        problem = policy_problem(password, email=email)
        if problem:
            raise Unprocessable(problem, code="weak_password")
    if username is not None:
        await check_handle(session, username)
    if await repository.get_user_by_email(session, email):
        raise Conflict("An account with this e-mail address already exists", code="email_taken")
    if username is None:
        base = handle_from_email(email)
        username = first_free(base, await repository.handles_like(session, base))
    password_hash = await hash_password_off_loop(password) if password is not None else None
    user = repository.add_user(
        session,
        User(
            email=email,
            username=username,
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


async def check_handle(session: AsyncSession, username: str, *, owner: int | None = None) -> None:
    """Refuse a handle that breaks the rules or that someone other than `owner` holds."""
    problem = handle_problem(username)
    if problem:
        raise Unprocessable(problem, code="invalid_username")
    holder = await repository.user_id_with_handle(session, username)
    if holder is not None and holder != owner:
        raise Conflict(f"The username {username!r} is taken", code="username_taken")
