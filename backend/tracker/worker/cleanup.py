"""Expired sign-in data: codes, external sign-in states, old refresh tokens, login attempts.

Refresh tokens are kept a day past expiry, so a client presenting one just after it lapsed gets
"expired" from the auth service rather than "unknown" (and reuse detection still sees the family).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.models import AuthorizationCode, LoginAttempt, OidcLoginState, RefreshToken
from tracker.config import Settings

REFRESH_TOKEN_KEEP = timedelta(days=1)


async def delete_expired_tokens(
    session: AsyncSession, settings: Settings, now: datetime | None = None
) -> dict[str, int]:
    now = now or datetime.now(UTC)
    statements = {
        "authorization_codes": delete(AuthorizationCode).where(AuthorizationCode.expires_at < now),
        "oidc_login_states": delete(OidcLoginState).where(OidcLoginState.expires_at < now),
        "refresh_tokens": delete(RefreshToken).where(
            RefreshToken.expires_at < now - REFRESH_TOKEN_KEEP
        ),
        "login_attempts": delete(LoginAttempt).where(
            LoginAttempt.created_at < now - timedelta(seconds=settings.login_window_seconds)
        ),
    }
    deleted: dict[str, int] = {}
    for table, statement in statements.items():
        result = await session.execute(statement)
        deleted[table] = int(getattr(result, "rowcount", 0) or 0)
    return deleted
