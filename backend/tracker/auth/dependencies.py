"""Who is calling, and what they may do: permission dependencies named by capability.

A request authenticates with `Authorization: Bearer <access token>` (the web server forwards
the token it keeps in an httpOnly cookie) or, for same-origin browser calls through the web
server's /api proxy, the `tracker_access` cookie itself. Cookie-authenticated writes must come
from an allowed Origin, so another site cannot ride the cookie (CSRF).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.auth import sessions as auth_sessions
from tracker.auth.models import User
from tracker.auth.tokens import decode_access_token
from tracker.config import Settings
from tracker.db import DbSession
from tracker.errors import Forbidden, Unauthorized
from tracker.roles import STAFF_ROLES, Role

# Every route declares who may call it by depending on a dependency marked with a policy
# (tests/auth/test_route_policy.py walks the app and fails for any route without one).
POLICY_ATTR = "__tracker_policy__"
F = TypeVar("F", bound=Callable[..., Any])


def policy(name: str) -> Callable[[F], F]:
    def mark(fn: F) -> F:
        setattr(fn, POLICY_ATTR, name)
        return fn

    return mark


def policies_of(dependant: Dependant) -> set[str]:
    """The access policies a route's dependency tree declares."""
    found: set[str] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        name = getattr(current.call, POLICY_ATTR, None)
        if name:
            found.add(name)
        stack.extend(current.dependencies)
    return found


ACCESS_COOKIE = "tracker_access"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_settings_dep(request: Request) -> Settings:
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


async def _authenticate(session: AsyncSession, request: Request) -> User | None:
    # Settings straight from the app rather than through AppSettings: every dependency node is
    # solved by FastAPI on every request, so each policy below is a single node that does the
    # authentication itself.
    settings: Settings = request.app.state.settings
    token = _token_from(request, settings)
    if token is None:
        return None
    claims = decode_access_token(settings, token)
    if claims is None:
        raise Unauthorized("The access token is invalid or expired", code="invalid_token")
    user = await auth_sessions.user_for_access(session, claims, request.app.state.access_cache)
    request.state.user = user
    return user


async def _signed_in(session: AsyncSession, request: Request) -> User:
    user = await _authenticate(session, request)
    if user is None:
        raise Unauthorized()
    return user


@policy("anyone")
async def anyone() -> None:
    """No authentication at all, on purpose: sign-up, sign-in and the token endpoints must work
    for a caller whose stale credentials would otherwise be refused."""


@policy("public")
async def public(session: DbSession, request: Request) -> User | None:
    """Anyone, signed in or not. Declares a route public on purpose."""
    return await _authenticate(session, request)


@policy("authenticated")
async def current_user(session: DbSession, request: Request) -> User:
    return await _signed_in(session, request)


def require_role(*roles: Role) -> Callable[..., Coroutine[Any, Any, User]]:
    @policy("role:" + ",".join(sorted(r.value for r in roles)))
    async def dependency(session: DbSession, request: Request) -> User:
        user = await _signed_in(session, request)
        if user.role not in roles:
            raise Forbidden(
                f"This needs the role {' or '.join(r.value for r in roles)}", code="role_required"
            )
        return user

    return dependency


OptionalUser = Annotated[User | None, Depends(public)]
CurrentUser = Annotated[User, Depends(current_user)]
StaffUser = Annotated[User, Depends(require_role(*STAFF_ROLES))]
AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]


@policy("in-band")
async def authenticates_in_band() -> None:
    """For a WebSocket that authenticates with its first message (or its handshake cookie)
    inside the handler; declares that the handler itself checks who is calling."""


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return factory


# For work that must outlive the request's transaction (a failed sign-in is remembered even
# though the request is rolled back).
SessionFactory = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]


async def client_ip(request: Request) -> str:
    # uvicorn has already replaced the peer with X-Forwarded-For when the hop is trusted
    # (`forwarded_allow_ips`): the web server forwards the browser's address that way.
    return request.client.host if request.client else "unknown"


ClientIp = Annotated[str, Depends(client_ip)]
