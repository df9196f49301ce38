from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.passwords import hash_password, policy_problem
from tracker.errors import Conflict, Unprocessable
from tracker.users import repository
from tracker.users.models import Role, User


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
    user = repository.add(
        session,
        User(
            email=email,
            full_name=full_name.strip() or email.split("@")[0],
            password_hash=hash_password(password) if password is not None else None,
            role=role,
            is_active=True,
        ),
    )
    await session.flush()
    return user
