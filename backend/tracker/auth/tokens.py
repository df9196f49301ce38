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
    # The refresh-token family (sign-in session) the token was issued from: revoking the family
    # (sign-out, detected reuse) ends the access token at once instead of at its expiry. Every
    # token has one; a token without it could not be ended early, so it is refused.
    session_id: uuid.UUID


def issue_access_token(
    settings: Settings,
    user_id: int,
    *,
    session_id: uuid.UUID,
    now: datetime | None = None,
) -> str:
    now = now or datetime.now(UTC)
    payload: dict[str, object] = {
        "iss": ISSUER,
        "sub": str(user_id),
        "typ": ACCESS_TYPE,
        "jti": uuid.uuid4().hex,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=settings.access_token_ttl_seconds)).timestamp()),
        "sid": str(session_id),
    }
    return jwt.encode(payload, settings.secret_key, algorithm=ALGORITHM)


# Verified tokens, so a client's every request does not check the same signature again: a
# token's claims never change, and expiry is checked on each use. Bounded; the oldest goes first.
_VERIFIED: dict[tuple[str, str], AccessClaims] = {}
_VERIFIED_MAX = 4096


def decode_access_token(settings: Settings, token: str) -> AccessClaims | None:
    """The token's claims when it is a valid, unexpired access token signed by us; else None."""
    key = (settings.secret_key, token)
    claims = _VERIFIED.get(key)
    if claims is None:
        claims = _verify(settings, token)
        if claims is None:
            return None
        if len(_VERIFIED) >= _VERIFIED_MAX:
            del _VERIFIED[next(iter(_VERIFIED))]
        _VERIFIED[key] = claims
    if claims.expires_at <= datetime.now(UTC):
        _VERIFIED.pop(key, None)
        return None
    return claims


def _verify(settings: Settings, token: str) -> AccessClaims | None:
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],  # pinned: `none` and every other algorithm are refused
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "typ", "iss", "sid"]},
        )
    except jwt.PyJWTError:
        return None
    if payload.get("typ") != ACCESS_TYPE:
        return None
    try:
        user_id = int(payload["sub"])
        session_id = uuid.UUID(payload["sid"])
    except (TypeError, ValueError, AttributeError):
        return None
    return AccessClaims(
        user_id=user_id,
        jti=str(payload["jti"]),
        expires_at=datetime.fromtimestamp(payload["exp"], UTC),
        session_id=session_id,
    )
