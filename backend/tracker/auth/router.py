from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Response, status
from fastapi.responses import JSONResponse, RedirectResponse

from tracker.auth import oidc_service, service
from tracker.auth import sessions as auth_sessions
from tracker.auth.dependencies import AppSettings, ClientIp, SessionFactory, anyone
from tracker.auth.oauth_errors import OAuthError
from tracker.auth.schemas import (
    AuthorizeRequest,
    AuthorizeResponse,
    OAuthErrorBody,
    Provider,
    TokenResponse,
)
from tracker.db import DbSession
from tracker.errors import PROBLEM_JSON, PROBLEM_REF, problems
from tracker.inputs import NUL_FREE, JsonBodyRoute

router = APIRouter(tags=["auth"], dependencies=[Depends(anyone)], route_class=JsonBodyRoute)

# RFC 6749 §5.1: token responses must never be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@router.get("/auth/providers", response_model=list[Provider])
async def providers(settings: AppSettings) -> list[Provider]:
    """External sign-in providers configured on this server (empty when none)."""
    return service.providers(settings)


@router.post(
    "/oauth/authorize",
    response_model=AuthorizeResponse,
    responses=problems(
        (400, "Not a registered client and redirect URI, or not an S256 challenge"),
        (401, "Wrong e-mail address or password"),
        (403, "The account is deactivated"),
        429,
    ),
)
async def authorize(
    body: AuthorizeRequest,
    session: DbSession,
    sessions: SessionFactory,
    settings: AppSettings,
    ip: ClientIp,
    response: Response,
) -> AuthorizeResponse:
    """First-party login step of the authorization-code flow: checks the credentials and
    returns a single-use code bound to the client, its redirect URI and PKCE challenge."""
    response.headers.update(NO_STORE)
    return await service.login(session, sessions, settings, body, ip=ip)


@router.post(
    "/oauth/token",
    response_model=TokenResponse,
    responses={
        # RFC 6749 §5.2 errors; a body that is not a form at all is refused before the
        # endpoint reads it, as problem+json.
        400: {"model": OAuthErrorBody, "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}}},
        401: {"model": OAuthErrorBody},
    },
)
async def token(
    session: DbSession,
    settings: AppSettings,
    response: Response,
    grant_type: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    code: Annotated[str | None, Form()] = None,
    code_verifier: Annotated[str | None, Form()] = None,
    redirect_uri: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
) -> TokenResponse | JSONResponse:
    """Token endpoint (RFC 6749 §3.2): `authorization_code` with PKCE, or `refresh_token`
    (rotated on every use). Errors follow RFC 6749 §5.2, not problem+json."""
    try:
        tokens = await service.token(
            session,
            settings,
            grant_type=grant_type,
            client_id=client_id,
            code=code,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            refresh_token=refresh_token,
        )
    except OAuthError as exc:
        # Returned, not raised: revocations triggered by the failure (a replayed code or
        # refresh token) must commit with the request.
        body = OAuthErrorBody(error=exc.error, error_description=exc.description)
        return JSONResponse(body.model_dump(), status_code=exc.status, headers=NO_STORE)
    response.headers.update(NO_STORE)
    return tokens


@router.post(
    "/oauth/revoke",
    status_code=status.HTTP_200_OK,
    response_class=Response,
    responses=problems((400, "The body is not a form")),
)
async def revoke(
    session: DbSession,
    settings: AppSettings,
    token: Annotated[str | None, Form()] = None,
    token_type_hint: Annotated[str | None, Form()] = None,
) -> Response:
    """Revocation (RFC 7009): ends the sign-in session the token belongs to. Always 200."""
    await auth_sessions.revoke(session, settings, token_value=token)
    return Response(status_code=status.HTTP_200_OK, headers=NO_STORE)


@router.get(
    "/oauth/oidc/start",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=problems(
        (400, "Not a registered client and redirect URI, or not an S256 challenge"),
        (404, "No external sign-in provider is configured"),
        (503, "The provider cannot be reached"),
    ),
)
async def oidc_start(
    session: DbSession,
    settings: AppSettings,
    client_id: Annotated[str, Query(max_length=64, pattern=NUL_FREE)],
    redirect_uri: Annotated[str, Query(max_length=2000, pattern=NUL_FREE)],
    code_challenge: Annotated[str, Query(max_length=128, pattern=NUL_FREE)],
    code_challenge_method: Annotated[str, Query(max_length=16, pattern=NUL_FREE)],
    state: Annotated[str, Query(max_length=500, pattern=NUL_FREE)] = "",
) -> RedirectResponse:
    """Start signing in with the configured OpenID Connect provider: redirects to it."""
    url = await oidc_service.start(
        session,
        settings,
        client_id=client_id,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        state=state,
    )
    return RedirectResponse(url, status_code=status.HTTP_302_FOUND, headers=NO_STORE)


@router.get(
    "/oauth/oidc/callback", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse
)
async def oidc_callback(
    session: DbSession,
    settings: AppSettings,
    code: Annotated[str | None, Query(max_length=2000, pattern=NUL_FREE)] = None,
    state: Annotated[str | None, Query(max_length=500, pattern=NUL_FREE)] = None,
    error: Annotated[str | None, Query(max_length=200, pattern=NUL_FREE)] = None,
    error_description: Annotated[str | None, Query(max_length=1000, pattern=NUL_FREE)] = None,
) -> RedirectResponse:
    """The provider's redirect back: verifies the ID token and sends the browser to the
    client's redirect URI with our own authorization code (or an OAuth error)."""
    url = await oidc_service.finish(
        session, settings, code=code, state=state, error=error, error_description=error_description
    )
    return RedirectResponse(url, status_code=status.HTTP_302_FOUND, headers=NO_STORE)
