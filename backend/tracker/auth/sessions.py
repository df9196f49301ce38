"""Sign-in sessions: revoking them, the check every access token passes (is its user active,
has its session ended), and the clean-up of what has expired."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth import repository
from tracker.auth.access_cache import AccessCache
from tracker.auth.models import User
from tracker.auth.service import digest, now
from tracker.auth.tokens import AccessClaims, decode_access_token
from tracker.config import Settings
from tracker.errors import Unauthorized
from tracker.roles import Role


async def revoke(session: AsyncSession, settings: Settings, *, token_value: str | None) -> None:
    """RFC 7009: revoke the sign-in session a refresh or access token belongs to. Unknown and
    invalid tokens are not an error: the client's goal, the token being unusable, is met."""
    if not token_value:
        return
    row = await repository.get_refresh_token(session, digest(token_value))
    if row is not None:
        await repository.revoke_family(session, row.family_id)
        return
    claims = decode_access_token(settings, token_value)
    if claims is not None:
        await repository.revoke_family(session, claims.session_id)


async def end_all_sessions(session: AsyncSession, user_id: int) -> None:
    await repository.revoke_user_tokens(session, user_id)


async def user_for_access(
    session: AsyncSession, claims: AccessClaims, remembered: AccessCache | None = None
) -> User:
    """The active user an access token speaks for; its session must not have been ended.

    With `remembered` (the app's AccessCache), an answer this process has already read is used
    for as long as no change to that user or sign-in session has been announced."""
    key = (claims.user_id, claims.session_id)
    values = remembered.get(key) if remembered is not None else None
    if values is None:
        generation = remembered.generation if remembered is not None else 0
        row = await repository.access_check(session, claims.user_id, claims.session_id)
        if row is None or not row["is_active"]:
            raise Unauthorized("This account is not active", code="inactive_account")
        if row["session_ended"]:
            raise Unauthorized("This session has ended; sign in again", code="session_ended")
        values = {c.key: row[c.key] for c in repository.USER_COLUMNS}
        values["role"] = Role(values["role"])
        if remembered is not None:
            remembered.put(key, values, generation)
    # A detached User built from plain columns, new for each request: an ORM load (identity
    # map, instance state) on every request costs several times the query itself.
    return User(**values)


async def live_sessions(session: AsyncSession, session_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """The sign-in sessions among these that have not ended (for open sockets' re-checks)."""
    if not session_ids:
        return set()
    return await repository.live_sessions(session, session_ids)


# Expired refresh tokens are kept a day, so a client presenting one just after it lapsed is told
# "expired" rather than "unknown", and reuse detection still sees its family.
REFRESH_TOKEN_KEEP = timedelta(days=1)


async def purge_expired(session: AsyncSession, settings: Settings) -> dict[str, int]:
    """Delete expired codes, OIDC states, refresh tokens (a day after expiry) and sign-in
    failures and sign-ups older than their throttling windows; the worker's clean-up job.
    Rows removed per table."""
    current = now()
    return await repository.purge_expired(
        session,
        now=current,
        refresh_before=current - REFRESH_TOKEN_KEEP,
        attempts_before=current - timedelta(seconds=settings.login_window_seconds),
        signups_before=current - timedelta(seconds=settings.signup_window_seconds),
    )
