"""JWT access tokens: HS256 pinned, short-lived, typed."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from tracker.config import Settings

ALGORITHM = "HS256"
ACCESS_TYPE = "access"
ISSUER = "tracker"


@dataclass(frozen=True)
class AccessClaims:
    user_id: int
    jti: str
    expires_at: datetime


def issue_access_token(settings: Settings, user_id: int, *, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    payload = {
        "iss": ISSUER,
        "sub": str(user_id),
        "typ": ACCESS_TYPE,
        "jti": uuid.uuid4().hex,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.access_token_ttl_seconds)).timestamp()),
    }
    return jwt.encode(payload, settings.secret_key, algorithm=ALGORITHM)


def decode_access_token(settings: Settings, token: str) -> AccessClaims | None:
    """The token's claims when it is a valid, unexpired access token signed by us; else None."""
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],  # pinned: `none` and every other algorithm are refused
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "typ", "iss"]},
        )
    except jwt.PyJWTError:
        return None
    if payload.get("typ") != ACCESS_TYPE:
        return None
    try:
        user_id = int(payload["sub"])
    except (TypeError, ValueError):
        return None
    return AccessClaims(
        user_id=user_id,
        jti=str(payload["jti"]),
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
    )
