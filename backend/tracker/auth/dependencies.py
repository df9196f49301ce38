"""Who is calling, and what they may do: permission dependencies named by capability.

A request authenticates with `Authorization: Bearer <access token>` (the web server forwards
the token it keeps in an httpOnly cookie) or, for same-origin browser calls through the web
server's /api proxy, the `tracker_access` cookie itself. Cookie-authenticated writes must come
from an allowed Origin, so another site cannot ride the cookie (CSRF).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tracker.auth.tokens import decode_access_token
from tracker.config import Settings
from tracker.db import DbSession
from tracker.errors import Forbidden, Unauthorized
from tracker.users import repository as users
from tracker.users.models import Role, User

ACCESS_COOKIE = "tracker_access"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(get_settings_dep)]


def _token_from(request: Request, settings: Settings) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise Unauthorized(
                "Use an `Authorization: Bearer <token>` header", code="invalid_token"
            )
        return value.strip()
    cookie = request.cookies.get(ACCESS_COOKIE)
    if cookie:
        if request.method not in SAFE_METHODS:
            origin = request.headers.get("origin")
            if origin not in settings.origins:
                raise Forbidden(
                    "Cookie-authenticated changes must come from the tracker's own origin",
                    code="origin_not_allowed",
                )
        return cookie
    return None


async def authenticate(session: DbSession, settings: AppSettings, request: Request) -> User | None:
    token = _token_from(request, settings)
    if token is None:
        return None
    claims = decode_access_token(settings, token)
    if claims is None:
        raise Unauthorized("The access token is invalid or expired", code="invalid_token")
    user = await users.get(session, claims.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("This account is not active", code="inactive_account")
    request.state.user = user
    return user


async def public(user: Annotated[User | None, Depends(authenticate)]) -> User | None:
    """Anyone, signed in or not. Declares a route public on purpose."""
    return user


async def current_user(user: Annotated[User | None, Depends(authenticate)]) -> User:
    if user is None:
        raise Unauthorized()
    return user


def require_role(*roles: Role) -> object:
    async def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in roles:
            raise Forbidden(
                f"This needs the role {' or '.join(r.value for r in roles)}", code="role_required"
            )
        return user

    return dependency


OptionalUser = Annotated[User | None, Depends(public)]
CurrentUser = Annotated[User, Depends(current_user)]
StaffUser = Annotated[User, Depends(require_role(Role.ADMIN, Role.MAINTAINER))]
AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]


def is_staff(user: User) -> bool:
    return user.role in (Role.ADMIN, Role.MAINTAINER)
