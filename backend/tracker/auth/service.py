"""The authorization server: sign-up, the first-party login step and the token endpoint's
logic. Sessions and the access check are in `sessions.py`, throttling in `throttling.py`."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.auth import accounts, pkce, repository, throttling
from tracker.auth.models import AuthorizationCode, RefreshToken, User
from tracker.auth.oauth_errors import OAuthError
from tracker.auth.passwords import (
    hash_password_off_loop,
    needs_rehash,
    verify_password_off_loop,
)
from tracker.auth.schemas import AuthorizeRequest, AuthorizeResponse, Provider, TokenResponse
from tracker.auth.tokens import issue_access_token
from tracker.config import Settings
from tracker.errors import BadRequest, Forbidden, Unauthorized
from tracker.roles import Role

FIRST_PARTY_CLIENT = "web"
OIDC_PROVIDER_ID = "oidc"


def digest(secret: str) -> str:
    """Codes, refresh tokens and OIDC states are stored as SHA-256: a database leak reveals none."""
    return hashlib.sha256(secret.encode()).hexdigest()


def family_of_code(code_hash: str) -> uuid.UUID:
    # The tokens issued from a code form one family named after it, so a replayed code can find
    # and revoke them (RFC 6749 §4.1.2) without another column.
    return uuid.UUID(code_hash[:32])


def now() -> datetime:
    return datetime.now(UTC)


# --- sign-up and providers -------------------------------------------------------------------


async def signup(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    email: str,
    password: str,
    full_name: str,
    ip: str,
    username: str | None = None,
) -> User:
    """Create a REPORTER. Each address may try `signup_max_per_address` times a window, taken
    or refused: the 409 for a registered address (docs/security.md) can be asked that often."""
    await throttling.count_sign_up(session, sessions, settings, ip=ip)
    return await accounts.create_user(
        session,
        email=email,
        password=password,
        full_name=full_name,
        role=Role.REPORTER,
        username=username,
    )


def providers(settings: Settings) -> list[Provider]:
    if not settings.oidc_enabled:
        return []
    return [Provider(id=OIDC_PROVIDER_ID, name=settings.oidc_provider_name)]


# --- the authorization request ---------------------------------------------------------------


def check_authorization_request(
    settings: Settings,
    *,
    client_id: str,
    redirect_uri: str,
    code_challenge: str,
    code_challenge_method: str,
) -> None:
    """The client's request is refused before any credential is looked at."""
    if client_id != FIRST_PARTY_CLIENT:
        raise BadRequest(f"Unknown client {client_id!r}", code="invalid_client")
    if redirect_uri != settings.oauth_redirect_uri:
        raise BadRequest(
            "redirect_uri is not registered for this client", code="invalid_redirect_uri"
        )
    if code_challenge_method != pkce.METHOD:
        raise BadRequest(
            "code_challenge_method must be S256 (plain is not accepted)", code="invalid_request"
        )
    if not pkce.is_valid_challenge(code_challenge):
        raise BadRequest(
            "code_challenge must be the 43-character base64url SHA-256 of the verifier",
            code="invalid_request",
        )


async def login(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    request: AuthorizeRequest,
    *,
    ip: str,
) -> AuthorizeResponse:
    check_authorization_request(
        settings,
        client_id=request.client_id,
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        code_challenge_method=request.code_challenge_method,
    )
    email = request.email.strip().lower()
    await throttling.check_sign_in(session, settings, email=email, ip=ip)
    user = await accounts.get_user_by_email(session, email)
    if user is None or not await verify_password_off_loop(user.password_hash, request.password):
        await throttling.record_failed_sign_in(sessions, email=email, ip=ip)
        raise Unauthorized(
            "The e-mail address or password is incorrect", code="invalid_credentials"
        )
    if not user.is_active:
        raise Forbidden("This account has been deactivated", code="account_disabled")
    assert user.password_hash is not None  # verify_password refuses accounts without one
    if needs_rehash(user.password_hash):
        user.password_hash = await hash_password_off_loop(request.password)
    await repository.clear_login_attempts(session, email)
    code = await issue_code(
        session,
        settings,
        user,
        client_id=request.client_id,
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
    )
    return AuthorizeResponse(code=code, state=request.state)


async def issue_code(
    session: AsyncSession,
    settings: Settings,
    user: User,
    *,
    client_id: str,
    redirect_uri: str,
    code_challenge: str,
) -> str:
    user.last_login_at = now()
    code = secrets.token_urlsafe(32)
    repository.add_code(
        session,
        AuthorizationCode(
            code_hash=digest(code),
            user_id=user.id,
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            expires_at=now() + timedelta(seconds=settings.auth_code_ttl_seconds),
        ),
    )
    await session.flush()
    return code


def redirect_with(redirect_uri: str, **params: str) -> str:
    return f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{urlencode(params)}"


# --- the token endpoint ----------------------------------------------------------------------


async def _issue_tokens(
    session: AsyncSession,
    settings: Settings,
    *,
    user_id: int,
    client_id: str,
    family_id: uuid.UUID,
) -> TokenResponse:
    refresh = secrets.token_urlsafe(32)
    repository.add_refresh_token(
        session,
        RefreshToken(
            token_hash=digest(refresh),
            family_id=family_id,
            user_id=user_id,
            client_id=client_id,
            expires_at=now() + timedelta(days=settings.refresh_token_ttl_days),
        ),
    )
    await session.flush()
    return TokenResponse(
        access_token=issue_access_token(settings, user_id, session_id=family_id),
        expires_in=settings.access_token_ttl_seconds,
        refresh_token=refresh,
    )


async def start_session(
    session: AsyncSession, settings: Settings, *, user_id: int, client_id: str = FIRST_PARTY_CLIENT
) -> TokenResponse:
    """A new sign-in session for a user whose identity is already established (a trusted
    script, a benchmark): the same tokens a completed sign-in gets."""
    return await _issue_tokens(
        session, settings, user_id=user_id, client_id=client_id, family_id=uuid.uuid4()
    )


def _require(value: str | None, name: str) -> str:
    if not value:
        raise OAuthError("invalid_request", f"The {name} parameter is missing")
    return value


async def token(
    session: AsyncSession,
    settings: Settings,
    *,
    grant_type: str | None,
    client_id: str | None,
    code: str | None = None,
    code_verifier: str | None = None,
    redirect_uri: str | None = None,
    refresh_token: str | None = None,
) -> TokenResponse:
    """RFC 6749 §4.1.3 and §6. Errors are OAuthError; what they revoke must still be committed,
    so the caller returns them as a response instead of letting the transaction roll back."""
    grant = _require(grant_type, "grant_type")
    if grant not in ("authorization_code", "refresh_token"):
        raise OAuthError(
            "unsupported_grant_type", "Only authorization_code and refresh_token are supported"
        )
    client = _require(client_id, "client_id")
    if client != FIRST_PARTY_CLIENT:
        raise OAuthError("invalid_client", f"Unknown client {client!r}")
    if grant == "authorization_code":
        return await _redeem_code(
            session,
            settings,
            client_id=client,
            code=_require(code, "code"),
            code_verifier=_require(code_verifier, "code_verifier"),
            redirect_uri=_require(redirect_uri, "redirect_uri"),
        )
    return await _rotate(
        session, settings, client_id=client, presented=_require(refresh_token, "refresh_token")
    )


async def _redeem_code(
    session: AsyncSession,
    settings: Settings,
    *,
    client_id: str,
    code: str,
    code_verifier: str,
    redirect_uri: str,
) -> TokenResponse:
    if not pkce.is_valid_verifier(code_verifier):
        raise OAuthError(
            "invalid_request", "code_verifier must be 43-128 unreserved characters (RFC 7636)"
        )
    row = await repository.lock_code(session, digest(code))
    if row is None:
        raise OAuthError("invalid_grant", "The authorization code is invalid")
    family_id = family_of_code(row.code_hash)
    if row.used_at is not None:
        # A replayed code means it leaked: whatever was issued from it is no longer trusted.
        await repository.revoke_family(session, family_id)
        raise OAuthError("invalid_grant", "The authorization code has already been used")
    # Spent on first presentation, even a failed one: a code never gets a second guess.
    row.used_at = now()
    await session.flush()
    if row.expires_at <= now():
        raise OAuthError("invalid_grant", "The authorization code has expired")
    if row.client_id != client_id or row.redirect_uri != redirect_uri:
        raise OAuthError(
            "invalid_grant", "The authorization code was issued to another client or redirect_uri"
        )
    if not pkce.verify(code_verifier, row.code_challenge):
        raise OAuthError("invalid_grant", "The code_verifier does not match the code_challenge")
    user = await accounts.get_user(session, row.user_id)
    if user is None or not user.is_active:
        raise OAuthError("invalid_grant", "This account is not active")
    return await _issue_tokens(
        session, settings, user_id=user.id, client_id=client_id, family_id=family_id
    )


async def _rotate(
    session: AsyncSession, settings: Settings, *, client_id: str, presented: str
) -> TokenResponse:
    row = await repository.lock_refresh_token(session, digest(presented))
    if row is None or row.client_id != client_id:
        raise OAuthError("invalid_grant", "The refresh token is invalid")
    if row.revoked_at is not None:
        raise OAuthError("invalid_grant", "The refresh token has been revoked")
    if row.used_at is not None:
        # Someone holds a copy of a token that was already exchanged: end the whole session,
        # the legitimate holder's newest token included (RFC 9700 §4.14.2).
        await repository.revoke_family(session, row.family_id)
        raise OAuthError(
            "invalid_grant", "The refresh token was already used; the session has been ended"
        )
    if row.expires_at <= now():
        raise OAuthError("invalid_grant", "The refresh token has expired")
    user = await accounts.get_user(session, row.user_id)
    if user is None or not user.is_active:
        await repository.revoke_family(session, row.family_id)
        raise OAuthError("invalid_grant", "This account is not active")
    row.used_at = now()
    return await _issue_tokens(
        session, settings, user_id=user.id, client_id=client_id, family_id=row.family_id
    )
