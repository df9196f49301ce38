"""Sign-in through an external OpenID Connect provider, ending in OUR authorization code.

The first-party client starts exactly as for a password sign-in (its own PKCE challenge and
state); we run a second, independent code flow with PKCE, state and nonce towards the provider,
then answer the client's request with our own single-use code.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth import accounts, oidc_client, pkce, repository
from tracker.auth.models import ExternalIdentity, OidcLoginState, User
from tracker.auth.oidc_client import OidcError
from tracker.auth.service import (
    check_authorization_request,
    digest,
    issue_code,
    now,
    redirect_with,
)
from tracker.config import Settings
from tracker.errors import NotFound, ServiceUnavailable
from tracker.observability.logging import get_logger
from tracker.roles import Role

log = get_logger("tracker.auth.oidc")

SIGNIN_TTL = timedelta(minutes=10)


async def start(
    session: AsyncSession,
    settings: Settings,
    *,
    client_id: str,
    redirect_uri: str,
    code_challenge: str,
    code_challenge_method: str,
    state: str,
) -> str:
    """Remember the client's request and return the provider's authorization URL."""
    if not settings.oidc_enabled or not settings.oidc_issuer:
        raise NotFound("No external sign-in provider is configured", code="oidc_not_configured")
    check_authorization_request(
        settings,
        client_id=client_id,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
    )
    try:
        meta = await oidc_client.discover(settings.oidc_issuer)
    except OidcError as exc:
        log.warning("oidc_discovery_failed", error=str(exc))
        raise ServiceUnavailable(
            f"{settings.oidc_provider_name} sign-in is unavailable right now",
            code="oidc_provider_unavailable",
        ) from exc
    our_state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = pkce.new_verifier()
    repository.add_oidc_state(
        session,
        OidcLoginState(
            state_hash=digest(our_state),
            nonce=nonce,
            code_verifier=verifier,
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            client_state=state,
            expires_at=now() + SIGNIN_TTL,
        ),
    )
    await session.flush()
    return oidc_client.authorization_url(
        meta, settings, state=our_state, nonce=nonce, code_challenge=pkce.s256(verifier)
    )


async def finish(
    session: AsyncSession,
    settings: Settings,
    *,
    code: str | None,
    state: str | None,
    error: str | None,
    error_description: str | None,
) -> str:
    """Handle the provider's answer; returns where to send the browser (the client's callback,
    with our code or an OAuth error)."""
    flight = await repository.take_oidc_state(session, digest(state)) if state else None
    if flight is None or flight.expires_at <= now():
        # A reloaded or replayed callback, an expired sign-in, or a provider that drops the state
        # on refusal. This is a browser navigation: a JSON error would be all the person sees.
        # The only client's registered callback is told instead, with no state, so it treats the
        # answer as unsolicited and shows its own sign-in page with the error.
        return redirect_with(
            settings.oauth_redirect_uri,
            error="invalid_request",
            error_description="This sign-in link is unknown or has expired; start again",
        )

    def fail(reason: str, kind: str = "access_denied") -> str:
        return redirect_with(
            flight.redirect_uri, error=kind, error_description=reason, state=flight.client_state
        )

    if error or not code:
        return fail(error_description or error or "The provider returned no code")
    if not settings.oidc_issuer:
        return fail("External sign-in is no longer configured", "server_error")
    try:
        meta = await oidc_client.discover(settings.oidc_issuer)
        id_token = await oidc_client.exchange_code(
            meta, settings, code=code, code_verifier=flight.code_verifier
        )
        claims = await oidc_client.verify_id_token(
            meta, settings, id_token=id_token, nonce=flight.nonce
        )
    except OidcError as exc:
        log.warning("oidc_signin_failed", error=str(exc))
        return fail(f"{settings.oidc_provider_name} sign-in failed: {exc}")

    email = claims.get("email")
    if not isinstance(email, str) or not email or claims.get("email_verified") is not True:
        return fail(f"Your {settings.oidc_provider_name} account has no verified e-mail address")
    user = await _user_for(
        session,
        issuer=meta.issuer,
        subject=str(claims["sub"]),
        email=email,
        name=str(claims.get("name") or ""),
    )
    if not user.is_active:
        return fail("This account has been deactivated")
    our_code = await issue_code(
        session,
        settings,
        user,
        client_id=flight.client_id,
        redirect_uri=flight.redirect_uri,
        code_challenge=flight.code_challenge,
    )
    return redirect_with(flight.redirect_uri, code=our_code, state=flight.client_state)


async def _user_for(
    session: AsyncSession, *, issuer: str, subject: str, email: str, name: str
) -> User:
    """The linked account, else the account with this verified e-mail, else a new REPORTER."""
    identity = await repository.get_identity(session, issuer, subject)
    if identity is not None:
        user = await accounts.get_user(session, identity.user_id)
        if user is not None:
            return user
    user = await accounts.get_user_by_email(session, email)
    if user is None:
        user = await accounts.create_user(
            session, email=email, password=None, full_name=name, role=Role.REPORTER
        )
    if identity is None:
        repository.add_identity(
            session, ExternalIdentity(user_id=user.id, issuer=issuer, subject=subject, email=email)
        )
        await session.flush()
    return user
