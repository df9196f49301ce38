"""Two attacks schemathesis does not draw: JSON nested a thousand deep, and odd Unicode.

Deep JSON goes to every operation that reads a JSON body; odd text (superscript digits,
combining marks, right-to-left text and overrides, zero-width and astral characters, NUL)
goes into every string a request carries: query parameters, JSON and form fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import hypothesis
import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import World
from tracker.inputs import MAX_JSON_DEPTH, strip_blank
from tracker.roles import Role

SETTINGS = hypothesis.settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)

# ---- strategies ------------------------------------------------------------------------------


@st.composite
def deep_json(draw: st.DrawFn) -> bytes:
    """A JSON text nested 900-1100 levels, of lists and objects mixed, maybe inside a field."""
    depth = draw(st.integers(900, 1100))
    kinds = draw(st.lists(st.booleans(), min_size=depth, max_size=depth))
    leaf = draw(st.sampled_from([b"1", b'"x"', b"null", b"[]", b"{}"]))
    opening = b"".join(b"[" if is_list else b'{"k":' for is_list in kinds)
    closing = b"".join(b"]" if is_list else b"}" for is_list in reversed(kinds))
    nested = opening + leaf + closing
    field = draw(st.sampled_from([None, "title", "body", "text", "email", "role"]))
    return nested if field is None else b'{"' + field.encode() + b'": ' + nested + b"}"


ODD = [
    "\x00",  # NUL: PostgreSQL text cannot store it
    "²",
    "³",
    "¹",
    "₂",  # superscripts and subscripts: digits to str.isdigit(), not to int()
    "\u0301",
    "\u20dd",
    "\u0489",  # combining marks, with nothing to combine with
    "\u202e",
    "\u202d",
    "\u2067",
    "\u200f",  # bidi overrides and marks
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u2060",  # zero-width characters
    "שלום",
    "مرحبا",  # right-to-left scripts
    "😀",
    "\U0001d518",  # mathematical fraktur U
    "𠀀",
    "\U0010fffd",  # astral characters (no surrogates: those are not text)
    "\u3000",
    "\u00a0",
    "\u2028",  # blanks outside ASCII
]


def odd_text() -> st.SearchStrategy[str]:
    pieces = st.one_of(
        st.sampled_from(ODD),
        st.characters(categories=["No", "Mn", "Me", "Cf", "Zs", "Zl", "Zp"]),
        st.characters(min_codepoint=0x10000, exclude_categories=["Cs"]),
        st.text(alphabet="abc 019-_", min_size=1, max_size=3),
    )
    return st.lists(pieces, min_size=1, max_size=12).map("".join)


# ---- the requests ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A valid request, and one string in it to replace."""

    method: str
    path: str
    where: str  # query, json, form or multipart
    name: str
    baseline: dict[str, Any]
    listed: bool = False  # the value is a list of strings
    echoed: str | None = None  # the response field that holds the value as stored

    def request(self, text: str, ids: dict[str, int]) -> dict[str, Any]:
        values = {**self.baseline, self.name: [text] if self.listed else text}
        kwargs: dict[str, Any] = {"params": values} if self.where == "query" else {}
        if self.where == "json":
            kwargs = {"json": values}
        elif self.where == "form":
            kwargs = {"data": values}
        elif self.where == "multipart":
            kwargs = {"data": values, "files": {"file": ("odd.txt", b"odd input", "text/plain")}}
        return {"method": self.method, "url": self.path.format(**ids), **kwargs}


AUTHORIZE = {
    "email": "admin0@example.com",
    "password": "wrong password",
    "client_id": "web",
    "redirect_uri": "http://127.0.0.1:3000/auth/callback",
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "code_challenge_method": "S256",
    "state": "s",
}
OIDC_START = {k: v for k, v in AUTHORIZE.items() if k not in ("email", "password")}
SIGNUP = {
    "email": "odd@example.com",
    "password": "long enough pass 1",
    "full_name": "Odd",
    "username": "odd-one",
}
ISSUE = {"title": "Odd input", "description": "", "tags": ["odd"]}
# A loopback address is refused before any DNS lookup: the fields are still checked first.
WEBHOOK = {"url": "http://127.0.0.1:9/hook", "events": ["*"], "description": "odd"}
TOKEN = {"grant_type": "refresh_token", "refresh_token": "unknown", "client_id": "web"}
TOKEN_FIELDS = ("grant_type", "client_id", "code", "code_verifier", "redirect_uri", "refresh_token")
# Only hashed or compared, never stored as text: a NUL there is harmless, and the OAuth
# endpoints answer what they cannot use with RFC 6749 errors.
NUL_HARMLESS = {
    ("/api/auth/signup", "password"),
    ("/api/oauth/authorize", "password"),
    *(("/api/oauth/token", name) for name in TOKEN_FIELDS),
    ("/api/oauth/revoke", "token"),
    ("/api/oauth/revoke", "token_type_hint"),
}

TARGETS = [
    *(Target("GET", "/api/issues", "query", n, {}) for n in ("q", "assignee_id", "reporter_id")),
    Target("GET", "/api/issues", "query", "sort", {}),
    Target("GET", "/api/issues", "query", "cursor", {}),
    Target("GET", "/api/issues", "query", "tag", {}, listed=True),
    *(
        Target("GET", "/api/issues/export", "query", n, {})
        for n in ("q", "assignee_id", "reporter_id", "sort", "format")
    ),
    Target("GET", "/api/issues/export", "query", "tag", {}, listed=True),
    Target("GET", "/api/issues/similar", "query", "q", {}),
    Target("GET", "/api/tags", "query", "q", {}),
    Target("GET", "/api/users", "query", "q", {}),
    Target("GET", "/api/issues/{issue_id}/comments", "query", "cursor", {}),
    Target("GET", "/api/issues/{issue_id}/events", "query", "cursor", {}),
    Target("POST", "/api/issues", "json", "title", ISSUE, echoed="title"),
    Target("POST", "/api/issues", "json", "description", ISSUE, echoed="description"),
    Target("POST", "/api/issues", "json", "tags", ISSUE, listed=True),
    Target("POST", "/api/issues", "multipart", "title", ISSUE, echoed="title"),
    Target("POST", "/api/issues", "multipart", "tags", ISSUE),
    Target("PATCH", "/api/issues/{issue_id}", "json", "title", {}, echoed="title"),
    Target("PATCH", "/api/issues/{issue_id}", "json", "description", {}, echoed="description"),
    Target("PATCH", "/api/issues/{issue_id}", "json", "tags", {}, listed=True),
    Target("POST", "/api/issues/{issue_id}/comments", "json", "body", {}, echoed="body"),
    Target("PATCH", "/api/comments/{comment_id}", "json", "body", {}, echoed="body"),
    Target("POST", "/api/markdown/preview", "json", "text", {}),
    *(Target("PATCH", "/api/users/me", "json", n, {}) for n in ("username", "full_name")),
    Target("PATCH", "/api/users/{user_id}", "json", "username", {}),
    Target("GET", "/api/notifications", "query", "cursor", {}),
    Target("GET", "/api/users/mentionable", "query", "q", {"issue_id": "1"}),
    *(Target("POST", "/api/webhooks", "json", n, WEBHOOK, listed=n == "events") for n in WEBHOOK),
    *(Target("PATCH", "/api/webhooks/{webhook_id}", "json", n, {}) for n in ("url", "description")),
    Target("PATCH", "/api/webhooks/{webhook_id}", "json", "events", {}, listed=True),
    Target("GET", "/api/webhooks/{webhook_id}/deliveries", "query", "cursor", {}),
    *(
        Target("POST", "/api/imports", "multipart", n, {})
        for n in ("format", "mapping", "on_error", "unknown_reporters")
    ),
    Target("POST", "/api/views", "json", "name", {}, echoed="name"),
    Target("PATCH", "/api/views/{view_id}", "json", "name", {}),
    *(Target("POST", "/api/auth/signup", "json", n, SIGNUP) for n in SIGNUP),
    *(Target("POST", "/api/oauth/authorize", "json", n, AUTHORIZE) for n in AUTHORIZE),
    *(Target("POST", "/api/oauth/token", "form", n, TOKEN) for n in TOKEN_FIELDS),
    *(Target("POST", "/api/oauth/revoke", "form", n, {}) for n in ("token", "token_type_hint")),
    *(Target("GET", "/api/oauth/oidc/start", "query", n, OIDC_START) for n in OIDC_START),
    *(
        Target("GET", "/api/oauth/oidc/callback", "query", n, {})
        for n in ("code", "state", "error", "error_description")
    ),
]


def test_every_string_a_request_carries_is_a_target(app: FastAPI) -> None:
    spec = app.openapi()
    covered = {(t.method, t.path, t.name) for t in TARGETS}
    strings = set()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and "string" in str(parameter["schema"]):
                    strings.add((method.upper(), path, parameter["name"]))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                schema = content["schema"]
                if "$ref" in schema:
                    schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
                for name, sub in schema.get("properties", {}).items():
                    if "string" in str(sub) and "binary" not in str(sub):
                        strings.add((method.upper(), path, name))
    assert strings - covered == set()


@dataclass
class Sender:
    """Sends as the seeded ADMIN; a PATCH of an issue carries its current version."""

    client: httpx.AsyncClient
    world: World

    @property
    def ids(self) -> dict[str, int]:
        return {name: values[0] for name, values in self.world.ids.items()}

    async def __call__(self, request: dict[str, Any]) -> httpx.Response:
        headers = {**self.world.headers[Role.ADMIN], **request.pop("headers", {})}
        if request["method"] == "PATCH" and "/issues/" in request["url"]:
            current = await self.client.get(request["url"], headers=headers)
            headers["If-Match"] = current.headers["etag"]
        return await self.client.request(headers=headers, **request)


@pytest.fixture
def send(client: httpx.AsyncClient, world: World) -> Sender:
    return Sender(client, world)


def assert_answered(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code < 500, response.text
    if response.status_code >= 400 and not response.request.url.path.startswith("/api/oauth/t"):
        assert response.headers["content-type"] == "application/problem+json", response.text
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@hypothesis.settings(SETTINGS, max_examples=40)
@given(body=deep_json(), index=st.integers(0, 99))
async def test_json_a_thousand_deep_is_refused_by_every_json_operation(
    app: FastAPI, send: Sender, body: bytes, index: int
) -> None:
    operations = sorted(
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    )
    method, path = operations[index % len(operations)]
    response = await send(
        {
            "method": method,
            "url": path.format(**send.ids),
            "content": body,
            "headers": {"content-type": "application/json"},
        }
    )
    problem = assert_answered(response)
    assert response.status_code == 422, (method, path)
    assert f"deeper than {MAX_JSON_DEPTH}" in problem["detail"]


@hypothesis.settings(SETTINGS, max_examples=200)
@given(target=st.sampled_from(TARGETS), text=odd_text())
async def test_odd_unicode_in_any_string_is_refused_by_name_or_kept_as_sent(
    send: Sender, target: Target, text: str
) -> None:
    response = await send(target.request(text, send.ids))
    body = assert_answered(response)
    if response.status_code < 400 and target.echoed:
        expected = strip_blank(text) if target.echoed in ("title", "name") else text
        assert body[target.echoed] == expected
    if "\x00" in text and (target.path, target.name) not in NUL_HARMLESS:
        # Nothing with a NUL is stored, looked up or echoed: it is refused, by name.
        assert 400 <= response.status_code < 500, response.text
        named = [e["field"].split(".")[0] for e in body.get("errors", [])]
        assert target.name in named, body
