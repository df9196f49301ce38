"""Hand-picked hostile inputs: each once answered 500, or reached the database unchecked.

Every answer must be a 4xx problem+json that names what was wrong, never a server error.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import IssueFactory, UserFactory
from tracker.auth.access_cache import AccessCache
from tracker.auth.models import User
from tracker.inputs import INT4_MAX, MAX_JSON_DEPTH, JsonBodyRoute, json_depth
from tracker.roles import Role
from tracker.worker.sweep import sweep_orphans

Auth = Callable[[User], dict[str, str]]


@pytest.fixture
async def raw_client(app: FastAPI) -> Any:
    """A client that sees the 500 page instead of re-raising the server's exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def assert_problem(response: httpx.Response, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert field in [e["field"] for e in body.get("errors", [])], body
    return body


# ---- cursors ---------------------------------------------------------------------------------

ODD_DIGITS = [
    "²",  # superscript two: str.isdigit() says yes, int() says no
    "١٢",  # Arabic-Indic digits: int() takes them, the cursor must not
    "\uff11",  # fullwidth one
    "9999999999",  # ten ASCII digits, past int4
    "0",
    "-1",
    "1\x00",
]


@pytest.mark.parametrize("listing", ["comments", "events"])
@pytest.mark.parametrize("cursor", ODD_DIGITS)
async def test_an_odd_id_cursor_is_refused_naming_the_cursor(
    raw_client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    listing: str,
    cursor: str,
) -> None:
    user = await make_user(Role.MAINTAINER)
    issue = await make_issue(user)
    response = await raw_client.get(
        f"/api/issues/{issue.id}/{listing}", params={"cursor": cursor}, headers=auth(user)
    )
    body = assert_problem(response, 400, "cursor")
    assert body["code"] == "invalid_cursor"


# ---- JSON nesting ----------------------------------------------------------------------------


def nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def test_json_depth_counts_brackets_outside_strings_only() -> None:
    assert json_depth(b'{"title": "[[[[{{{{", "tags": ["a"]}') == 2
    assert json_depth(b'"\\"[[["') == 0
    assert json_depth(nested(1000, "dict")) == 1000
    assert json_depth(b"") == 0


def json_operations(app: FastAPI) -> list[tuple[str, str]]:
    spec = app.openapi()
    return sorted(
        (method, path)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    )


def test_every_route_reading_a_json_body_bounds_its_depth(app: FastAPI) -> None:
    unbounded = [
        f"{sorted(ctx.methods or [])} {ctx.path}"
        for ctx in iter_route_contexts(app.routes)
        if isinstance(ctx.original_route, APIRoute)
        and ctx.original_route.body_field is not None
        and not isinstance(ctx.original_route, JsonBodyRoute)
    ]
    assert not unbounded, "use route_class=JsonBodyRoute on these routers: " + ", ".join(unbounded)


async def _world(
    make_user: UserFactory, make_issue: IssueFactory, client: httpx.AsyncClient, auth: Auth
) -> tuple[User, dict[str, int | str]]:
    admin = await make_user(Role.ADMIN)
    issue = await make_issue(admin)
    comment = await client.post(
        f"/api/issues/{issue.id}/comments", json={"body": "hello"}, headers=auth(admin)
    )
    other = await make_user(Role.REPORTER)
    ids = {
        "issue_id": issue.id,
        "comment_id": comment.json()["id"],
        "user_id": other.id,
        "notification_id": 1,
        "webhook_id": 1,
        "view_id": 1,
        "import_id": 1,
        "delivery_id": "00000000-0000-4000-8000-000000000000",
    }
    return admin, ids


@pytest.mark.parametrize("kind", ["list", "dict"])
async def test_json_nested_a_thousand_deep_is_refused_on_every_json_route(
    app: FastAPI,
    raw_client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    kind: str,
) -> None:
    admin, ids = await _world(make_user, make_issue, raw_client, auth)
    headers = {**auth(admin), "content-type": "application/json", "If-Match": '"1"'}
    for method, path in json_operations(app):
        url = path.format(**ids)
        response = await raw_client.request(
            method, url, content=nested(1000, kind), headers=headers
        )
        body = assert_problem(response, 422, "body")
        assert f"deeper than {MAX_JSON_DEPTH}" in body["detail"], (method, path)


async def test_json_within_the_depth_bound_is_validated_as_usual(
    raw_client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    user = await make_user()
    deep_title = b'{"title": ' + nested(MAX_JSON_DEPTH - 1, "list") + b"}"
    response = await raw_client.post(
        "/api/issues",
        content=deep_title,
        headers={**auth(user), "content-type": "application/json"},
    )
    assert_problem(response, 422, "title")


@pytest.mark.parametrize("body", [b'{"text": "\xff\xfe"}', b'{"text": "\\ud800"}'])
async def test_bodies_that_are_not_utf8_or_carry_lone_surrogates_are_422(
    raw_client: httpx.AsyncClient, make_user: UserFactory, auth: Auth, body: bytes
) -> None:
    user = await make_user()
    response = await raw_client.post(
        "/api/markdown/preview",
        content=body,
        headers={**auth(user), "content-type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


# ---- integers past the int4 columns ----------------------------------------------------------

BIG = str(2**63)


@pytest.mark.parametrize(
    ("method", "url", "field"),
    [
        ("GET", f"/api/issues/{BIG}", "issue_id"),
        ("GET", f"/api/issues/{INT4_MAX + 1}/comments", "issue_id"),
        ("DELETE", f"/api/comments/{BIG}", "comment_id"),
        ("GET", "/api/issues?limit=99999999999", "limit"),
        ("GET", f"/api/issues?assignee_id={INT4_MAX + 1}", "assignee_id"),
        ("GET", "/api/issues?reporter_id=9999999999", "reporter_id"),
        ("GET", f"/api/users?offset={BIG}", "offset"),
        ("GET", "/api/users?limit=99999999999", "limit"),
        ("GET", "/api/stats/daily?days=99999999999", "days"),
        ("GET", "/api/tags?limit=99999999999", "limit"),
        ("GET", "/api/issues/similar?limit=99999999999", "limit"),
    ],
)
async def test_integers_out_of_range_are_422_naming_the_field_and_range(
    raw_client: httpx.AsyncClient,
    make_user: UserFactory,
    auth: Auth,
    method: str,
    url: str,
    field: str,
) -> None:
    admin = await make_user(Role.ADMIN)
    body = assert_problem(await raw_client.request(method, url, headers=auth(admin)), 422, field)
    message = next(e["message"] for e in body["errors"] if e["field"] == field)
    assert any(ch.isdigit() for ch in message), message  # the bound is stated


@pytest.mark.parametrize("value", [2**63, INT4_MAX + 1, 0])
async def test_an_assignee_id_out_of_range_in_a_body_is_422(
    raw_client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    value: int,
) -> None:
    admin = await make_user(Role.ADMIN)
    issue = await make_issue(admin)
    response = await raw_client.patch(
        f"/api/issues/{issue.id}",
        json={"assignee_id": value},
        headers={**auth(admin), "If-Match": '"1"'},
    )
    assert_problem(response, 422, "assignee_id")


# ---- NUL characters --------------------------------------------------------------------------

NUL = "nul\x00inside"
NUL_IN_URL = "nul%00inside"


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/issues?q=" + NUL_IN_URL, "q"),
        ("/api/issues?tag=" + NUL_IN_URL, "tag.0"),
        ("/api/issues/similar?q=" + NUL_IN_URL, "q"),
        ("/api/tags?q=" + NUL_IN_URL, "q"),
        ("/api/users?q=" + NUL_IN_URL, "q"),
        ("/api/oauth/oidc/callback?state=" + NUL_IN_URL, "state"),
    ],
)
async def test_nul_in_a_query_parameter_is_422_naming_it(
    raw_client: httpx.AsyncClient, make_user: UserFactory, auth: Auth, url: str, field: str
) -> None:
    admin = await make_user(Role.ADMIN)
    body = assert_problem(await raw_client.get(url, headers=auth(admin)), 422, field)
    assert "NUL" in body["detail"]


async def test_a_one_value_parameter_given_twice_is_422_naming_it(
    raw_client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    admin = await make_user(Role.ADMIN)
    made = await raw_client.post(
        "/api/issues",
        json={"title": "Safari export", "tags": ["export", "safari"]},
        headers=auth(admin),
    )
    assert made.status_code == 201, made.text
    body = assert_problem(
        await raw_client.get("/api/tags?q=ex&q=sa", headers=auth(admin)), 422, "q"
    )
    assert "more than once" in body["detail"]
    assert_problem(
        await raw_client.get("/api/issues?sort=new&sort=old", headers=auth(admin)), 422, "sort"
    )
    # A parameter that takes a list still takes several values.
    listed = await raw_client.get("/api/issues?tag=export&tag=safari", headers=auth(admin))
    assert listed.status_code == 200, listed.text
    assert [i["title"] for i in listed.json()["items"]] == ["Safari export"]


@pytest.mark.parametrize(
    ("method", "path", "payload", "field"),
    [
        ("POST", "/api/issues", {"title": NUL}, "title"),
        ("POST", "/api/issues", {"title": "ok", "description": NUL}, "description"),
        ("POST", "/api/issues", {"title": "ok", "tags": [NUL]}, "tags.0"),
        ("PATCH", "/api/issues/{issue_id}", {"title": NUL}, "title"),
        ("POST", "/api/issues/{issue_id}/comments", {"body": NUL}, "body"),
        ("PATCH", "/api/comments/{comment_id}", {"body": NUL}, "body"),
        ("POST", "/api/markdown/preview", {"text": NUL}, "text"),
        (
            "POST",
            "/api/auth/signup",
            {"email": "n@example.com", "password": "long enough pass 1", "full_name": NUL},
            "full_name",
        ),
        (
            "POST",
            "/api/oauth/authorize",
            {
                "email": NUL,
                "password": "x",
                "client_id": "web",
                "redirect_uri": "x",
                "code_challenge": "x",
                "code_challenge_method": "S256",
            },
            "email",
        ),
    ],
)
async def test_nul_in_a_body_field_is_422_naming_it(
    raw_client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
    method: str,
    path: str,
    payload: dict[str, Any],
    field: str,
) -> None:
    admin, ids = await _world(make_user, make_issue, raw_client, auth)
    response = await raw_client.request(
        method,
        path.format(**ids),
        json=payload,
        headers={**auth(admin), "If-Match": '"1"'},
    )
    assert_problem(response, 422, field)


async def test_nul_in_a_multipart_issue_is_422_naming_the_field(
    raw_client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    user = await make_user()
    response = await raw_client.post(
        "/api/issues",
        data={"title": NUL, "tags": "a,b"},
        files={"file": ("notes.txt", b"plain text")},
        headers=auth(user),
    )
    assert_problem(response, 422, "title")


async def test_odd_file_names_and_form_text_are_never_a_server_error(
    raw_client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    user = await make_user()
    issue = await make_issue(user)
    names = ["\u202egnp.exe", "a\x00b.txt", "\u0301" * 300, "../../etc/passwd", "😀" * 80]
    for name in names:
        response = await raw_client.post(
            f"/api/issues/{issue.id}/attachments",
            files={"file": (name, b"plain text")},
            headers=auth(user),
        )
        assert response.status_code < 500, (name, response.text)
    raw_form = (
        b'--x\r\nContent-Disposition: form-data; name="title"\r\n\r\n\xff\xfe\r\n'
        b'--x\r\nContent-Disposition: form-data; name="tags"\r\n\r\n\tsafari\r\n--x--\r\n'
    )
    response = await raw_client.post(
        "/api/issues",
        content=raw_form,
        headers={**auth(user), "content-type": "multipart/form-data; boundary=x"},
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"


# ---- titles and tags: what the schema allows is what is stored -------------------------------


async def test_a_title_is_stored_without_the_blanks_around_it(
    raw_client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    user = await make_user()
    created = await raw_client.post(
        "/api/issues",
        json={"title": "\u3000 Login fails\u00a0\n", "tags": ["  Safari  Mobile "]},
        headers=auth(user),
    )
    assert created.status_code == 201, created.text
    assert created.json()["title"] == "Login fails"
    assert created.json()["tags"] == ["safari mobile"]
    for blank in ["", " ", "\u3000\u00a0\u2028"]:
        response = await raw_client.post("/api/issues", json={"title": blank}, headers=auth(user))
        assert_problem(response, 422, "title")
    for tag in ["tab\tinside", "x" * 31, "ÄÖ"]:
        response = await raw_client.post(
            "/api/issues", json={"title": "t", "tags": [tag]}, headers=auth(user)
        )
        assert_problem(response, 422, "tags.0")


async def test_null_for_a_field_the_schema_does_not_offer_it_is_refused(
    raw_client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    admin = await make_user(Role.ADMIN)
    issue = await make_issue(admin)
    response = await raw_client.patch(
        f"/api/issues/{issue.id}", json={"title": None}, headers={**auth(admin), "If-Match": '"1"'}
    )
    assert_problem(response, 422, "title")


async def test_an_invalid_request_is_named_before_its_precondition_is_checked(
    raw_client: httpx.AsyncClient, make_user: UserFactory, make_issue: IssueFactory, auth: Auth
) -> None:
    admin = await make_user(Role.ADMIN)
    issue = await make_issue(admin)
    response = await raw_client.patch(
        f"/api/issues/{issue.id}",
        json={"title": "x" * 201},
        headers={**auth(admin), "If-Match": "production"},
    )
    assert_problem(response, 422, "title")


# ---- names on disk ---------------------------------------------------------------------------


async def test_the_sweep_passes_over_folders_whose_names_are_not_issue_ids(
    db: AsyncSession, storage_dir: Path
) -> None:
    old = time.time() - 30 * 86400
    for name in ("²", "\u0663", "9999999999", "0", "999999"):
        stray = storage_dir / "issues" / name / str(uuid.uuid4())
        stray.parent.mkdir(parents=True)
        stray.write_bytes(b"left behind")
        os.utime(stray, (old, old))
    result = await sweep_orphans(db, storage_dir)
    assert result == {"files_deleted": 1, "folders_deleted": 1}  # issue 999999's, which is gone
    left = sorted(p.name for p in (storage_dir / "issues").iterdir())
    assert left == sorted(["²", "\u0663", "9999999999", "0"])


def test_an_access_announcement_of_odd_digits_forgets_everyone_instead_of_failing() -> None:
    cache = AccessCache()
    generation = cache.generation
    cache.heard("²")  # isdigit() says yes; int() refuses it
    assert cache.generation == generation + 1


@pytest.mark.parametrize("path", ["/api/oauth/token", "/api/oauth/revoke"])
async def test_a_form_endpoint_sent_a_broken_form_answers_a_documented_400(
    app: FastAPI, raw_client: httpx.AsyncClient, path: str
) -> None:
    response = await raw_client.post(
        path, content=b"zz", headers={"content-type": "multipart/form-data"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    declared = app.openapi()["paths"][path]["post"]["responses"]["400"]["content"]
    assert "application/problem+json" in declared
