from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, bindparam, delete, exists, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.access_cache import forget_session_everywhere, forget_user_everywhere
from tracker.auth.models import (
    AuthorizationCode,
    ExternalIdentity,
    LoginAttempt,
    OidcLoginState,
    RefreshToken,
    SignupAttempt,
    User,
)
from tracker.db import Record, Sql, fetchrow
from tracker.roles import Role

# --- the access check on every authenticated request -------------------------------------------

USER_COLUMNS = tuple(User.__table__.c)

# Built once: this runs on every authenticated request, and a statement built per call costs more
# CPU (SQLAlchemy's cache-key walk) than the database spends on it. One round trip answers both
# "who is this" and "has their sign-in session ended": a session is live while its family holds
# a token that was not revoked (sign-out and reuse revoke them all), so a made-up or purged
# session id is ended too.
_ACCESS_CHECK = select(
    *USER_COLUMNS,
    ~exists()
    .where(
        RefreshToken.__table__.c.family_id
        == bindparam("family_id", type_=RefreshToken.__table__.c.family_id.type),
        RefreshToken.__table__.c.user_id == User.__table__.c.id,
        RefreshToken.__table__.c.revoked_at.is_(None),
    )
    .label("session_ended"),
).where(User.__table__.c.id == bindparam("user_id"))


# Public: the benchmark baseline runs this very statement (bench/baseline.py).
ACCESS_CHECK = Sql(_ACCESS_CHECK)


async def access_check(session: AsyncSession, user_id: int, family_id: uuid.UUID) -> Record | None:
    """The user's columns and whether their sign-in session `family_id` has ended."""
    return await fetchrow(session, ACCESS_CHECK, {"user_id": user_id, "family_id": family_id})


async def live_sessions(session: AsyncSession, family_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these sign-in sessions still hold a token that was not revoked."""
    stmt = (
        select(RefreshToken.family_id)
        .where(RefreshToken.family_id.in_(family_ids), RefreshToken.revoked_at.is_(None))
        .distinct()
    )
    return set((await session.scalars(stmt)).all())


# --- authorization codes ---------------------------------------------------------------------


def add_code(session: AsyncSession, code: AuthorizationCode) -> None:
    session.add(code)


async def lock_code(session: AsyncSession, code_hash: str) -> AuthorizationCode | None:
    # Row lock: two concurrent redemptions of one code serialise, and the second sees it used.
    stmt = select(AuthorizationCode).where(AuthorizationCode.code_hash == code_hash)
    return (await session.execute(stmt.with_for_update())).scalar_one_or_none()


# --- refresh tokens --------------------------------------------------------------------------


def add_refresh_token(session: AsyncSession, token: RefreshToken) -> None:
    session.add(token)


async def lock_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    return (await session.execute(stmt.with_for_update())).scalar_one_or_none()


async def get_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    stmt = select(RefreshToken).where(RefreshToken.token_hash == token_hash)
    return (await session.execute(stmt)).scalar_one_or_none()


async def revoke_family(session: AsyncSession, family_id: uuid.UUID) -> None:
    forget_session_everywhere(family_id)
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def revoke_user_tokens(session: AsyncSession, user_id: int) -> None:
    forget_user_everywhere(user_id)
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def family_revoked(session: AsyncSession, family_id: uuid.UUID) -> bool:
    stmt = select(
        exists().where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_not(None))
    )
    return bool((await session.execute(stmt)).scalar_one())


# --- accounts --------------------------------------------------------------------------------


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    stmt = select(User).where(func.lower(User.email) == email.strip().lower())
    return (await session.execute(stmt)).scalar_one_or_none()


async def count_users_with_role(session: AsyncSession, role: Role) -> int:
    stmt = select(func.count()).select_from(User).where(User.role == role)
    return int((await session.execute(stmt)).scalar_one())


def add_user(session: AsyncSession, user: User) -> User:
    session.add(user)
    return user


async def handles_like(session: AsyncSession, base: str) -> set[str]:
    """Handles that are `base` or `base-<suffix>`: what a new handle made from `base` avoids."""
    stmt = select(User.username).where(
        or_(User.username == base, User.username.startswith(base[:30], autoescape=True))
    )
    return set((await session.execute(stmt)).scalars())


async def user_id_with_handle(session: AsyncSession, username: str) -> int | None:
    stmt = select(User.id).where(User.username == username)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- login attempts --------------------------------------------------------------------------


async def seconds_until_unthrottled(
    session: AsyncSession,
    *,
    email: str | None = None,
    ip: str | None = None,
    max_failures: int,
    window_seconds: int,
) -> int | None:
    """Seconds until fewer than `max_failures` failures (for this account, this address, or the
    pair when both are given) remain in the window, or None if fewer remain already. The N-th
    newest failure is the one whose expiry lifts the block."""
    window = text("make_interval(secs => :window)").bindparams(window=window_seconds)
    stmt = (
        select(func.ceil(func.extract("epoch", LoginAttempt.created_at + window - func.now())))
        .where(LoginAttempt.created_at > func.now() - window, *_attempts_of(email, ip))
        .order_by(LoginAttempt.created_at.desc())
        .offset(max_failures - 1)
        .limit(1)
    )
    seconds = (await session.execute(stmt)).scalar_one_or_none()
    return None if seconds is None else max(1, int(seconds))


async def recent_failures(
    session: AsyncSession, *, email: str, window_seconds: int
) -> tuple[int, float | None]:
    """An account's failures in the window, from every address, and seconds since the last."""
    window = text("make_interval(secs => :window)").bindparams(window=window_seconds)
    stmt = select(
        func.count(), func.extract("epoch", func.now() - func.max(LoginAttempt.created_at))
    ).where(LoginAttempt.email == email, LoginAttempt.created_at > func.now() - window)
    count, since = (await session.execute(stmt)).one()
    return int(count), None if since is None else float(since)


def _attempts_of(email: str | None, ip: str | None) -> list[ColumnElement[bool]]:
    where = []
    if email is not None:
        where.append(LoginAttempt.email == email)
    if ip is not None:
        where.append(LoginAttempt.ip == ip)
    return where


def add_login_attempt(session: AsyncSession, *, email: str, ip: str) -> None:
    session.add(LoginAttempt(email=email, ip=ip))


async def clear_login_attempts(session: AsyncSession, email: str) -> None:
    await session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))


# --- external identities and OIDC sign-ins in flight -----------------------------------------


async def get_identity(session: AsyncSession, issuer: str, subject: str) -> ExternalIdentity | None:
    stmt = select(ExternalIdentity).where(
        ExternalIdentity.issuer == issuer, ExternalIdentity.subject == subject
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def add_identity(session: AsyncSession, identity: ExternalIdentity) -> None:
    session.add(identity)


def add_oidc_state(session: AsyncSession, state: OidcLoginState) -> None:
    session.add(state)


async def take_oidc_state(session: AsyncSession, state_hash: str) -> OidcLoginState | None:
    """Remove and return a sign-in in flight: each state answers exactly one callback."""
    stmt = (
        delete(OidcLoginState)
        .where(OidcLoginState.state_hash == state_hash)
        .returning(OidcLoginState)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def seconds_until_signup_allowed(
    session: AsyncSession, *, ip: str, max_signups: int, window_seconds: int
) -> int | None:
    """Seconds until fewer than `max_signups` sign-ups from this address remain in the window."""
    window = text("make_interval(secs => :window)").bindparams(window=window_seconds)
    stmt = (
        select(func.ceil(func.extract("epoch", SignupAttempt.created_at + window - func.now())))
        .where(SignupAttempt.created_at > func.now() - window, SignupAttempt.ip == ip)
        .order_by(SignupAttempt.created_at.desc())
        .offset(max_signups - 1)
        .limit(1)
    )
    seconds = (await session.execute(stmt)).scalar_one_or_none()
    return None if seconds is None else max(1, int(seconds))


def add_signup_attempt(session: AsyncSession, *, ip: str) -> None:
    session.add(SignupAttempt(ip=ip))


# --- housekeeping ----------------------------------------------------------------------------


async def purge_expired(
    session: AsyncSession,
    *,
    now: datetime,
    refresh_before: datetime,
    attempts_before: datetime,
    signups_before: datetime,
) -> dict[str, int]:
    """Rows removed per table."""
    statements = {
        "authorization_codes": delete(AuthorizationCode).where(AuthorizationCode.expires_at < now),
        "oidc_login_states": delete(OidcLoginState).where(OidcLoginState.expires_at < now),
        "refresh_tokens": delete(RefreshToken).where(RefreshToken.expires_at < refresh_before),
        "login_attempts": delete(LoginAttempt).where(LoginAttempt.created_at < attempts_before),
        "signup_attempts": delete(SignupAttempt).where(SignupAttempt.created_at < signups_before),
    }
    removed: dict[str, int] = {}
    for table, stmt in statements.items():
        result = await session.execute(stmt)
        removed[table] = int(getattr(result, "rowcount", 0) or 0)
    return removed
