"""The OpenAPI document says what the API answers, and the API answers what it says."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import IssueFactory, UserFactory
from tracker.auth.models import User
from tracker.inputs import INT4_MAX
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]
METHODS = ("get", "put", "post", "delete", "patch", "options", "trace")

# Values only hashed or compared, never stored as text, so a NUL in them is harmless; the
# OAuth endpoints answer malformed values with RFC 6749 errors rather than validation errors.
NUL_ALLOWED = {
    ("POST", "/api/auth/signup", "password"),
    ("POST", "/api/oauth/authorize", "password"),
    *(
        ("POST", "/api/oauth/token", name)
        for name in (
            "grant_type",
            "client_id",
            "code",
            "code_verifier",
            "redirect_uri",
            "refresh_token",
        )
    ),
    ("POST", "/api/oauth/revoke", "token"),
    ("POST", "/api/oauth/revoke", "token_type_hint"),
    ("PATCH", "/api/issues/{issue_id}", "if-match"),  # HTTP headers cannot carry NUL
}


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def leaves(spec: dict[str, Any], schema: dict[str, Any], name: str) -> Iterator[tuple[str, dict]]:
    """(field, schema) for every string or integer a request value can be."""
    schema = resolve(spec, schema)
    for branch in schema.get("anyOf", []):
        branch = {**{k: v for k, v in schema.items() if k != "anyOf"}, **resolve(spec, branch)}
        yield from leaves(spec, branch, name)
    kind = schema.get("type")
    if kind == "object":
        for prop, sub in schema.get("properties", {}).items():
            yield from leaves(spec, sub, prop)
    elif kind == "array":
        yield from leaves(spec, schema.get("items", {}), name)
    elif kind in ("string", "integer"):
        yield name, schema


def request_values(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for method, path, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            for name, schema in leaves(spec, parameter["schema"], parameter["name"]):
                yield method, path, name, schema
        for content in operation.get("requestBody", {}).get("content", {}).values():
            for name, schema in leaves(spec, content.get("schema", {}), "body"):
                yield method, path, name, schema


def test_every_error_an_operation_declares_is_a_problem(app: FastAPI) -> None:
    spec = app.openapi()
    wrong = []
    for method, path, operation in operations(spec):
        for status, response in operation["responses"].items():
            if int(status) < 400 or path == "/api/oauth/token":  # RFC 6749 §5.2 bodies
                continue
            content = response.get("content", {})
            schema = content.get("application/problem+json", {}).get("schema")
            if set(content) != {"application/problem+json"} or schema != {
                "$ref": "#/components/schemas/Problem"
            }:
                wrong.append(f"{method} {path} {status}")
    assert not wrong
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_operations_that_need_a_user_say_so_and_declare_401(app: FastAPI) -> None:
    spec = app.openapi()
    for method, path, operation in operations(spec):
        if operation.get("security"):
            assert "401" in operation["responses"], (method, path)
    assert spec["paths"]["/api/users/me"]["get"]["security"]
    assert "security" not in spec["paths"]["/api/auth/signup"]["post"]
    assert "403" in spec["paths"]["/api/users"]["get"]["responses"]


def test_no_request_text_can_carry_a_nul_character(app: FastAPI) -> None:
    spec = app.openapi()
    open_to_nul = []
    for method, path, name, schema in request_values(spec):
        if schema.get("type") != "string" or (method, path, name) in NUL_ALLOWED:
            continue
        if "enum" in schema or schema.get("format") in ("uuid", "binary", "email"):
            continue
        pattern = schema.get("pattern")
        if pattern is None or re.search(pattern, "a\x00b"):
            open_to_nul.append(f"{method} {path} {name}")
    assert not open_to_nul


def test_every_request_integer_fits_the_database(app: FastAPI) -> None:
    spec = app.openapi()
    unbounded = [
        f"{method} {path} {name}"
        for method, path, name, schema in request_values(spec)
        if schema.get("type") == "integer"
        and not (schema.get("minimum", -1) >= 0 and schema.get("maximum", INT4_MAX + 1) <= INT4_MAX)
    ]
    assert not unbounded


# ---- 405 and Allow ---------------------------------------------------------------------------


async def _ids(make_user: UserFactory, make_issue: IssueFactory) -> tuple[User, dict[str, str]]:
    admin = await make_user(Role.ADMIN)
    issue = await make_issue(admin)
    return admin, {
        "issue_id": str(issue.id),
        "comment_id": "1",
        "user_id": str(admin.id),
        "attachment_id": "00000000-0000-4000-8000-000000000000",
        "webhook_id": "1",
        "view_id": "1",
        "import_id": "1",
        "delivery_id": "00000000-0000-4000-8000-000000000000",
        "notification_id": "1",
    }


async def test_an_undeclared_method_is_405_allowing_exactly_the_declared_ones(
    app: FastAPI,
    client: httpx.AsyncClient,
    make_user: UserFactory,
    make_issue: IssueFactory,
    auth: Auth,
) -> None:
    spec = app.openapi()
    admin, ids = await _ids(make_user, make_issue)
    for path, item in spec["paths"].items():
        declared = {m.upper() for m in item if m in METHODS}
        for method in sorted({"GET", "PUT", "POST", "DELETE", "PATCH", "TRACE"} - declared):
            response = await client.request(method, path.format(**ids), headers=auth(admin))
            assert response.status_code == 405, (method, path, response.status_code)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "method_not_allowed"
            allowed = {m.strip() for m in response.headers["allow"].split(",")}
            assert allowed == declared, (method, path)


@pytest.mark.parametrize(
    ("method", "url", "allow"),
    [
        ("PUT", "/api/issues/7", "DELETE, GET, PATCH"),
        ("DELETE", "/api/issues", "GET, POST"),
        ("PATCH", "/api/issues/similar", "GET"),
        ("PUT", "/api/users/me", "GET, PATCH"),
        ("DELETE", "/api/attachments/limits", "GET"),
    ],
)
async def test_a_literal_path_is_not_taken_for_an_id(
    client: httpx.AsyncClient, method: str, url: str, allow: str
) -> None:
    response = await client.request(method, url)
    assert response.status_code == 405
    assert response.headers["allow"] == allow


async def test_a_path_id_that_is_not_a_number_is_no_route(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/issues/abc")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
