"""Every route declares who may call it, and the declared policies hold for each role."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts

from tests.conftest import IssueFactory, UserFactory
from tests.sessions import access_token
from tracker.auth.dependencies import CurrentUser, policies_of
from tracker.auth.models import User
from tracker.config import Settings
from tracker.roles import Role

# Operational routes: no user context by design (probes, scrapers, the API's own docs).
OPERATIONAL = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/healthz",
    "/api/readyz",
    "/api/docs",
    "/api/docs/assets/{path}",
    "/api/docs/oauth2-redirect",
    "/docs/oauth2-redirect",
    "/api/openapi.json",
}


def _routes(app: FastAPI) -> Iterator[tuple[str, str, set[str] | None]]:
    """(method, path, policies) for every route; policies is None for non-API routes."""
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        path = ctx.path_format or ""
        if isinstance(route, APIRoute | APIWebSocketRoute):
            methods = sorted(ctx.methods or []) if isinstance(route, APIRoute) else ["WS"]
            for method in methods:
                yield method, path, policies_of(ctx.dependant)
        else:
            for method in sorted(getattr(ctx, "methods", None) or ["*"]):
                yield method, path, None


def undeclared(app: FastAPI) -> list[str]:
    return [
        f"{method} {path}"
        for method, path, policies in _routes(app)
        if path not in OPERATIONAL and not policies
    ]


def test_every_route_of_the_app_declares_a_policy(app: FastAPI) -> None:
    missing = undeclared(app)
    assert not missing, (
        "Routes without an access policy: depend on public, current_user (CurrentUser, "
        "OptionalUser) or a require_role() dependency (StaffUser, AdminUser), or add an "
        f"operational route to OPERATIONAL: {missing}"
    )


def test_the_checker_catches_undeclared_routes() -> None:
    router = APIRouter()

    @router.get("/declared")
    async def declared(user: CurrentUser) -> None: ...

    @router.get("/forgotten")
    async def forgotten() -> None: ...

    async def owned_thing(user: CurrentUser) -> int:  # a policy reached transitively counts
        return user.id

    @router.get("/transitive")
    async def transitive(_: Any = Depends(owned_thing)) -> None: ...

    probe = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    probe.include_router(router, prefix="/api")
    probe.add_route("/plain", lambda request: None)
    assert undeclared(probe) == ["GET /api/forgotten", "GET /plain", "HEAD /plain"]


# --- role x route matrix for the accounts routes ---------------------------------------------

ROLES: list[Role | None] = [None, Role.REPORTER, Role.MAINTAINER, Role.ADMIN]


@dataclass
class World:
    client: httpx.AsyncClient
    settings: Settings
    make_user: UserFactory
    target: User
    n: Iterator[int]
    issue_id: int = 0  # an issue the target reported


Call = Callable[[World, dict[str, str]], Awaitable[httpx.Response]]


async def _get(w: World, h: dict[str, str], url: str) -> httpx.Response:
    return await w.client.get(url, headers=h)


MATRIX: dict[tuple[str, str], tuple[Call, dict[Role | None, int]]] = {
    ("GET", "/api/users/me"): (
        lambda w, h: _get(w, h, "/api/users/me"),
        {None: 401, Role.REPORTER: 200, Role.MAINTAINER: 200, Role.ADMIN: 200},
    ),
    ("PATCH", "/api/users/me"): (
        lambda w, h: w.client.patch("/api/users/me", json={"full_name": "Renamed"}, headers=h),
        {None: 401, Role.REPORTER: 200, Role.MAINTAINER: 200, Role.ADMIN: 200},
    ),
    ("GET", "/api/users/me/notification-settings"): (
        lambda w, h: _get(w, h, "/api/users/me/notification-settings"),
        {None: 401, Role.REPORTER: 200, Role.MAINTAINER: 200, Role.ADMIN: 200},
    ),
    ("PUT", "/api/users/me/notification-settings"): (
        lambda w, h: w.client.put(
            "/api/users/me/notification-settings",
            json={"settings": [{"kind": "commented", "delivery": "digest"}]},
            headers=h,
        ),
        {None: 401, Role.REPORTER: 200, Role.MAINTAINER: 200, Role.ADMIN: 200},
    ),
    ("GET", "/api/users/mentionable"): (
        # The target's issue: staff may see it, other REPORTERs get the same 404 as for none.
        lambda w, h: _get(w, h, f"/api/users/mentionable?issue_id={w.issue_id}"),
        {None: 401, Role.REPORTER: 404, Role.MAINTAINER: 200, Role.ADMIN: 200},
    ),
    ("GET", "/api/users"): (
        lambda w, h: _get(w, h, "/api/users"),
        {None: 401, Role.REPORTER: 403, Role.MAINTAINER: 403, Role.ADMIN: 200},
    ),
    ("GET", "/api/users/staff"): (
        lambda w, h: _get(w, h, "/api/users/staff"),
        {None: 401, Role.REPORTER: 403, Role.MAINTAINER: 200, Role.ADMIN: 200},
    ),
    ("PATCH", "/api/users/{user_id}"): (
        lambda w, h: w.client.patch(
            f"/api/users/{w.target.id}", json={"role": "MAINTAINER"}, headers=h
        ),
        {None: 401, Role.REPORTER: 403, Role.MAINTAINER: 403, Role.ADMIN: 200},
    ),
    ("POST", "/api/auth/signup"): (
        lambda w, h: w.client.post(
            "/api/auth/signup",
            json={"email": f"new{next(w.n)}@example.com", "password": "long enough pass 1"},
            headers=h,
        ),
        dict.fromkeys(ROLES, 201),
    ),
    ("GET", "/api/auth/providers"): (
        lambda w, h: _get(w, h, "/api/auth/providers"),
        dict.fromkeys(ROLES, 200),
    ),
    ("POST", "/api/oauth/authorize"): (
        lambda w, h: w.client.post(
            "/api/oauth/authorize",
            json={
                "email": w.target.email,
                "password": "correct horse battery",
                "client_id": "web",
                "redirect_uri": w.settings.oauth_redirect_uri,
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
            },
            headers=h,
        ),
        dict.fromkeys(ROLES, 200),
    ),
    ("POST", "/api/oauth/token"): (
        lambda w, h: w.client.post(
            "/api/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": "unknown", "client_id": "web"},
            headers=h,
        ),
        dict.fromkeys(ROLES, 400),
    ),
    ("POST", "/api/oauth/revoke"): (
        lambda w, h: w.client.post("/api/oauth/revoke", data={"token": "unknown"}, headers=h),
        dict.fromkeys(ROLES, 200),
    ),
    ("GET", "/api/oauth/oidc/start"): (
        lambda w, h: _get(
            w,
            h,
            "/api/oauth/oidc/start?client_id=web&redirect_uri=x&code_challenge=y"
            "&code_challenge_method=S256&state=s",
        ),
        dict.fromkeys(ROLES, 404),  # no provider configured in this app
    ),
    ("GET", "/api/oauth/oidc/callback"): (
        lambda w, h: _get(w, h, "/api/oauth/oidc/callback?code=c&state=unknown"),
        dict.fromkeys(ROLES, 302),  # an unknown state is sent back to the client as an error
    ),
}
ACCOUNT_PREFIXES = ("/api/auth", "/api/oauth", "/api/users")


def test_matrix_covers_every_accounts_route(app: FastAPI) -> None:
    routes = {(m, p) for m, p, _ in _routes(app) if p.startswith(ACCOUNT_PREFIXES)}
    assert routes == set(MATRIX)


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
async def test_role_route_matrix(
    method: str,
    path: str,
    client: httpx.AsyncClient,
    settings: Settings,
    make_user: UserFactory,
    make_issue: IssueFactory,
) -> None:
    call, expected = MATRIX[(method, path)]
    target = await make_user(email="target@example.com")
    users = {role: await make_user(role) for role in ROLES if role is not None}
    issue = await make_issue(target)
    world = World(client, settings, make_user, target, itertools.count(), issue.id)
    actual: dict[Role | None, int] = {}
    for role in ROLES:
        headers = (
            {}
            if role is None
            else {"Authorization": f"Bearer {access_token(settings, users[role].id)}"}
        )
        actual[role] = (await call(world, headers)).status_code
    assert actual == expected
