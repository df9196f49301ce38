"""The raw baseline: the benchmarked issue endpoints with the same SQL, the same JSON and the same
authentication as the tracker's API, written directly on asyncpg and Starlette.

No ORM, no dependency injection, no pydantic: the ratio ours/baseline in the benchmark table is
what those layers (and our middleware) cost on identical database work. The SQL text is the
API's own: its compiled statements (tracker.db.Sql, named in tracker.issues.statements) are
imported at start-up, so the two can never drift apart; at request time this app only reads
their `.text` and orders the parameters.
The transactions are the API's too (tracker.db.driver): a request that only reads sends each
statement on its own, with no BEGIN/COMMIT; a text search begins one for its
`SET LOCAL plan_cache_mode`; a write checks access first, then begins at its first write
statement and commits at the end, except a create whose tags all exist, which is one statement
with no transaction around it. The Markdown renderer and snippet sanitiser are the project's
own, so that work costs the same on both sides.

    DATABASE_URL=postgresql://... SECRET_KEY=... uvicorn baseline:app --app-dir bench --port 8100

Only the parts of the endpoints the benchmark exercises are here: listing with status, severity
and tag filters, full-text search, sorting and cursors; reading one issue; filing one; and
PATCH with If-Match for title, description, severity and status (the workflow step).
"""

from __future__ import annotations

import base64
import gc
import json
import os
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracker.activity.repository import RECORD_EVENT
from tracker.auth.access_cache import ACCESS_CHANNEL, AccessCache
from tracker.auth.repository import ACCESS_CHECK
from tracker.issues.snippets import snippet_html, word_pattern
from tracker.issues.statements import (
    ADD_TAGS,
    CUSTOM_PLANS,
    INSERT_ISSUE,
    INSERT_ISSUE_ALONE,
    LEXEME_CACHE_SIZE,
    LEXEMES,
    LOCK_FOR_UPDATE,
    NOW,
    SEARCH_WORDS_MAX,
    TAG_IDS,
    ListShape,
    detail_statement,
    list_statement,
    new_tags_statement,
    page_rows,
    plain_words,
    search_statement,
    update_names,
    update_statement,
)
from tracker.markdown import render_markdown

STATUSES = ("OPEN", "TRIAGED", "IN_PROGRESS", "DONE")
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
STAFF = ("ADMIN", "MAINTAINER")
SORTS = ("created", "-created", "updated", "-updated", "severity", "-severity")
TAG_RE = re.compile(r"^[a-z0-9_\- ]{1,30}$")
ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')
FORWARD = {
    "OPEN": {"TRIAGED"},
    "TRIAGED": {"IN_PROGRESS"},
    "IN_PROGRESS": {"DONE"},
    "DONE": set(),
}
BACK = {
    "OPEN": set(),
    "TRIAGED": {"OPEN"},
    "IN_PROGRESS": {"TRIAGED"},
    "DONE": {"IN_PROGRESS", "OPEN"},
}


# ---- the API's statements -----------------------------------------------------------------
#
# All of them come from tracker.issues.statements (and the event's and the access check's from
# their domains): fixed ones compiled once, the ones built per shape (a list's filters and sort,
# an UPDATE's fields, a count of new tags) built once per shape by the same functions the API
# calls, so the SQL text is the API's own.


class HttpError(Exception):
    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(type(value).__name__)


def respond(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    raw = json.dumps(body, default=_json_default, ensure_ascii=False, separators=(",", ":"))
    return Response(raw.encode(), status, headers, media_type="application/json")


def problem(err: HttpError, path: str) -> Response:
    body = {
        "type": "about:blank",
        "title": HTTPStatus(err.status).phrase,
        "status": err.status,
        "detail": err.detail,
        "code": err.code,
        "instance": path,
    }
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(raw, err.status, media_type="application/problem+json")


# ---- authentication -------------------------------------------------------------------------

# As tracker.auth.tokens: a verified token's claims (user id, sign-in session, expiry) are
# remembered, so a client's every request does not check the same signature again; expiry is
# checked on each use. Bounded; the oldest goes first.
_VERIFIED: dict[str, tuple[int, uuid.UUID | None, int]] = {}
_VERIFIED_MAX = 4096
ACCESS = AccessCache()


def _verify(secret: str, token: str) -> tuple[int, uuid.UUID, int]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            issuer="tracker",
            options={"require": ["exp", "iat", "sub", "jti", "typ", "iss", "sid"]},
        )
    except jwt.PyJWTError as exc:
        raise HttpError(401, "invalid_token", "The access token is invalid or expired") from exc
    if claims.get("typ") != "access":
        raise HttpError(401, "invalid_token", "The access token is invalid or expired")
    try:
        user_id = int(claims["sub"])
        session_id = uuid.UUID(claims["sid"])
    except (TypeError, ValueError, AttributeError) as exc:
        raise HttpError(401, "invalid_token", "The access token is invalid or expired") from exc
    return user_id, session_id, int(claims["exp"])


async def authenticate(request: Request, conn: asyncpg.Connection) -> asyncpg.Record:
    """The API's access check: the token, then one query for the user and their sign-in session
    (on its own, before any transaction, as the API's policies run it)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HttpError(401, "not_authenticated", "Sign in first")
    token = token.strip()
    claims = _VERIFIED.get(token)
    if claims is None:
        claims = _verify(request.app.state.secret, token)
        if len(_VERIFIED) >= _VERIFIED_MAX:
            del _VERIFIED[next(iter(_VERIFIED))]
        _VERIFIED[token] = claims
    if claims[2] <= time.time():
        _VERIFIED.pop(token, None)
        raise HttpError(401, "invalid_token", "The access token is invalid or expired")
    # As the API: an answer is remembered until PostgreSQL announces a change to that user or
    # sign-in session, heard on this app's own LISTEN connection (see lifespan).
    key = (claims[0], claims[1])
    remembered = ACCESS.get(key)
    if remembered is not None:
        return remembered
    generation = ACCESS.generation
    params = {"user_id": claims[0], "family_id": claims[1]}
    user = await conn.fetchrow(ACCESS_CHECK.text, *ACCESS_CHECK.args(params))
    if user is None or not user["is_active"]:
        raise HttpError(401, "inactive_account", "This account is not active")
    # A token from a sign-in session that has ended (sign-out, refresh token reuse) is refused.
    if user["session_ended"]:
        raise HttpError(401, "session_ended", "This session has ended; sign in again")
    ACCESS.put(key, user, generation)
    return user


# ---- the JSON -------------------------------------------------------------------------------


def _ref(user_id: int | None, name: str | None) -> dict[str, Any] | None:
    return None if user_id is None or name is None else {"id": user_id, "full_name": name}


def summary(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "status": row["status"],
        "severity": row["severity"],
        "reporter": {"id": row["reporter_id"], "full_name": row["reporter_name"]},
        "assignee": _ref(row["assignee_id"], row["assignee_name"]),
        "tags": list(row["tags"]),
        "comment_count": row["comment_count"],
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "resolved_at": row["resolved_at"],
    }


def transitions(role: str, status: str) -> list[str]:
    allowed = FORWARD[status] | BACK[status] if role in STAFF else set()
    return [s for s in STATUSES if s in allowed]


def detail(row: asyncpg.Record, user: asyncpg.Record) -> dict[str, Any]:
    staff = user["role"] in STAFF
    own = row["reporter_id"] == user["id"]
    return {
        **summary(row),
        "description": row["description"],
        "description_html": row["description_html"],
        "attachment_count": row["attachment_count"],
        "allowed_transitions": transitions(user["role"], row["status"]),
        "permissions": {
            "edit": staff or (own and row["status"] == "OPEN"),
            "change_status": staff,
            "assign": staff,
            "tag": staff,
            "delete": user["role"] == "ADMIN",
            "comment": staff or own,
            "attach": staff or own,
            "delete_any_attachment": staff,
        },
    }


def encode_cursor(sort: str, key: object, row_id: int) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps({"s": sort, "k": value, "i": row_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, sort: str) -> tuple[object, int]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(payload, dict) or payload["s"] != sort:
            raise ValueError(sort)
        key, row_id = payload["k"], payload["i"]
        if not isinstance(row_id, int) or isinstance(row_id, bool):
            raise ValueError(row_id)
        kind = sort.lstrip("-")
        if kind in ("created", "updated"):
            key = datetime.fromisoformat(key)
            if key.tzinfo is None:
                raise ValueError(key)
        elif kind == "severity":
            if not isinstance(key, int) or isinstance(key, bool):
                raise ValueError(key)
        elif not isinstance(key, int | float) or isinstance(key, bool):
            raise ValueError(key)
        else:
            key = float(key)
        return key, row_id
    except (ValueError, KeyError, TypeError) as exc:
        raise HttpError(400, "invalid_cursor", "The cursor is not valid for this listing") from exc


# ---- reading --------------------------------------------------------------------------------


def _choices(request: Request, name: str, allowed: tuple[str, ...]) -> list[str]:
    values = request.query_params.getlist(name)
    if any(v not in allowed for v in values):
        raise HttpError(422, "validation_error", f"{name} must be one of {', '.join(allowed)}")
    return values


def _user_filter(value: str | None, user: asyncpg.Record, allow_none: bool) -> int | str | None:
    if value is None:
        return None
    pattern = r"^(\d{1,10}|me|none)$" if allow_none else r"^(\d{1,10}|me)$"
    if not re.fullmatch(pattern, value):
        raise HttpError(422, "validation_error", "not a user filter")
    if value == "me":
        return int(user["id"])
    return value if value == "none" else int(value)


async def list_issues(request: Request) -> Response:
    params = request.query_params
    statuses = _choices(request, "status", STATUSES)
    severities = _choices(request, "severity", SEVERITIES)
    tags = [t.strip() for t in params.getlist("tag")[:10] if t.strip()]
    text = (params.get("q") or "").strip() or None
    sort = params.get("sort") or ("rank" if text else "-created")
    if params.get("sort") is not None and sort not in SORTS:
        raise HttpError(400, "invalid_sort", f"sort must be one of {', '.join(SORTS)}")
    try:
        limit = int(params.get("limit", "25"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise HttpError(422, "validation_error", "limit must be between 1 and 100")
    cursor = params.get("cursor")
    after = decode_cursor(cursor, sort) if cursor else None

    async with request.app.state.pool.acquire() as conn:
        user = await authenticate(request, conn)
        assignee = _user_filter(params.get("assignee_id"), user, allow_none=True)
        reporter = _user_filter(params.get("reporter_id"), user, allow_none=False)
        scope = None if user["role"] in STAFF else user["id"]
        # tracker.issues.filters.ListFilter.shape() and .params()
        shape = ListShape(
            scoped=scope is not None,
            statuses=bool(statuses),
            severities=bool(severities),
            tags=len(tags),
            text=text is not None,
            unassigned=assignee == "none",
            assignee=assignee not in (None, "none"),
            reporter=reporter is not None,
        )
        words = await _search_words(conn, text) if text else []
        # As the API: plain words and nothing else are answered from search_terms (ADR 0014).
        if (
            sort == "rank"
            and shape.text_alone
            and plain_words(text or "")
            and len(words) <= SEARCH_WORDS_MAX
        ):
            if not words:
                return respond({"items": [], "next_cursor": None})
            search = search_statement(len(words), after is not None)
            values = {f"lexeme_{i}": word for i, word in enumerate(words)}
            values.update(q=text, limit=limit + 1)
            if after is not None:
                values["cursor_key"], values["cursor_id"] = after
            rows = await conn.fetch(search.text, *search.args(values))
            return _page(rows, limit, sort, words)
        # As the API: an unfiltered page has its row count written into the SQL.
        stmt = list_statement(shape, sort, after is not None, page_rows(shape, sort, limit))
        values: dict[str, Any] = {
            "scope_reporter_id": scope,
            "statuses": statuses,
            "severities": severities,
            "q": text,
            "assignee_id": None if assignee == "none" else assignee,
            "reporter_id": reporter,
            "limit": limit + 1,
        }
        if after is not None:
            values["cursor_key"], values["cursor_id"] = after
        if tags:
            # As the API: the tags' ids first, so the list is planned for those tags; an
            # unknown tag matches nothing.
            lowered = [name.lower() for name in tags]
            found = {
                r["name"]: r["id"]
                for r in await conn.fetch(TAG_IDS.text, *TAG_IDS.args({"names": lowered}))
            }
            if len(found) < len(set(lowered)):
                return respond({"items": [], "next_cursor": None})
            values.update({f"tag_id_{i}": found[name] for i, name in enumerate(lowered)})
        args = stmt.args(values)
        if text is None:
            rows = await conn.fetch(stmt.text, *args)
        else:
            # As the API: a plan for the actual words, in a transaction of its own (docs/adr/0011).
            async with conn.transaction():
                await conn.execute(CUSTOM_PLANS)
                rows = await conn.fetch(stmt.text, *args)
    return _page(rows, limit, sort, words if text else None)


def _page(rows: list[asyncpg.Record], limit: int, sort: str, words: list[str] | None) -> Response:
    more = len(rows) > limit
    rows = rows[:limit]
    pattern = word_pattern(words) if words is not None else None
    items = [
        {
            **summary(r),
            "snippet": snippet_html(r["snippet_source"], pattern) if words is not None else None,
        }
        for r in rows
    ]
    next_cursor = (
        encode_cursor(sort, rows[-1]["sort_key"], rows[-1]["id"]) if more and rows else None
    )
    return respond({"items": items, "next_cursor": next_cursor})


_WORDS: dict[str, list[str]] = {}


async def _search_words(conn: asyncpg.Connection, text: str) -> list[str]:
    """tracker.issues.search.search_words: remembered per text, as the API does."""
    words = _WORDS.get(text)
    if words is None:
        row = await conn.fetchrow(LEXEMES.text, *LEXEMES.args({"q": text}))
        words = list(row[0]) if row is not None and row[0] else []
        if len(_WORDS) >= LEXEME_CACHE_SIZE:
            _WORDS.clear()
        _WORDS[text] = words
    return words


def _issue_id(request: Request) -> int:
    raw = request.path_params["issue_id"]
    if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        raise HttpError(422, "validation_error", "issue id must be a positive integer")
    return int(raw)


async def _detail_row(
    conn: asyncpg.Connection, issue_id: int, user: asyncpg.Record
) -> asyncpg.Record | None:
    """tracker.issues.repository.get_detail: a REPORTER only sees what they reported."""
    scope = None if user["role"] in STAFF else user["id"]
    stmt = detail_statement(scope is not None)
    return await conn.fetchrow(
        stmt.text, *stmt.args({"issue_id": issue_id, "scope_reporter_id": scope})
    )


async def get_issue(request: Request) -> Response:
    issue_id = _issue_id(request)
    async with request.app.state.pool.acquire() as conn:
        user = await authenticate(request, conn)
        row = await _detail_row(conn, issue_id, user)
    if row is None:
        raise HttpError(404, "issue_not_found", f"Issue {issue_id} not found")
    return respond(detail(row, user), headers={"ETag": f'"{row["version"]}"'})


# ---- writing --------------------------------------------------------------------------------


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise HttpError(422, "validation_error", "The body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise HttpError(422, "validation_error", "The body must be a JSON object")
    return body


def _title(value: object) -> str:
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 200:
        raise HttpError(422, "validation_error", "title must be 1-200 characters")
    return value.strip()


def _text(value: object, name: str, allowed: tuple[str, ...] | None = None) -> str:
    if not isinstance(value, str) or len(value) > 50_000 or (allowed and value not in allowed):
        raise HttpError(422, "validation_error", f"{name} is not valid")
    return value


def _tags(value: object) -> list[str]:
    if not isinstance(value, list) or len(value) > 50:
        raise HttpError(422, "validation_error", "tags must be a list")
    tags: list[str] = []
    for raw in value:
        name = " ".join(str(raw).split()).lower()
        if not TAG_RE.fullmatch(name):
            raise HttpError(422, "validation_error", f"tag {raw!r} is not valid")
        if name not in tags:
            tags.append(name)
    if len(tags) > 10:
        raise HttpError(422, "validation_error", "at most 10 tags per issue")
    return tags


async def _record_event(
    conn: asyncpg.Connection,
    issue_id: int,
    reporter_id: int,
    actor_id: int,
    kind: str,
    data: dict[str, Any],
) -> None:
    """tracker.activity.service.record_event: the event row; its id, under the event-order
    lock, and its NOTIFY come from the same commit-time trigger."""
    params = {
        "issue_id": issue_id,
        "issue_ref": issue_id,
        "reporter_id": reporter_id,
        "actor_id": actor_id,
        "kind": kind,
        "data": json.dumps(data),
    }
    await conn.fetchrow(RECORD_EVENT.text, *RECORD_EVENT.args(params))


async def _ensure_tags(conn: asyncpg.Connection, names: list[str]) -> list[int]:
    """tracker.issues.tags.ensure_tags: one read when every tag exists (the usual case)."""
    lowered = sorted({n.lower() for n in names})
    args = TAG_IDS.args({"names": lowered})
    found = {r["name"]: r["id"] for r in await conn.fetch(TAG_IDS.text, *args)}
    missing = [n for n in names if n.lower() not in found]
    if missing:
        new = new_tags_statement(len(missing))
        await conn.execute(new.text, *new.args({f"name_{n}": m for n, m in enumerate(missing)}))
        found = {r["name"]: r["id"] for r in await conn.fetch(TAG_IDS.text, *args)}
    return list(found.values())


async def create_issue(request: Request) -> Response:
    body = await _json_body(request)
    extra = set(body) - {"title", "description", "severity", "tags"}
    if extra:
        raise HttpError(422, "validation_error", f"unknown fields: {', '.join(sorted(extra))}")
    title = _title(body.get("title"))
    description = _text(body.get("description", ""), "description")
    severity = _text(body.get("severity", "MEDIUM"), "severity", SEVERITIES)
    tags = _tags(body.get("tags", []))
    description_html = render_markdown(description)
    async with request.app.state.pool.acquire() as conn:
        user = await authenticate(request, conn)
        values = {
            "title": title,
            "description": description,
            "description_html": description_html,
            "severity": severity,
            "status": "OPEN",
            "reporter_id": user["id"],
            "tag_names": tags,
        }
        event_data = {"title": title, "severity": severity, "tags": sorted(tags)}
        # As the API: with every tag known, the issue, its tags and its event are one statement
        # and no transaction; the statement returns no row when a tag is new.
        alone = {
            **values,
            "event_reporter_id": user["id"],
            "event_actor_id": user["id"],
            "event_kind": "issue.created",
            "event_data": json.dumps(event_data),
        }
        row = await conn.fetchrow(INSERT_ISSUE_ALONE.text, *INSERT_ISSUE_ALONE.args(alone))
        if row is None:
            # The transaction begins with the first write, as the API's does.
            async with conn.transaction():
                # The issue and its existing tags in one statement, as the API's create does.
                row = await conn.fetchrow(INSERT_ISSUE.text, *INSERT_ISSUE.args(values))
                if row["tagged"] < len(tags):
                    tag_ids = await _ensure_tags(conn, tags)
                    if tag_ids:
                        add = {"issue_id": row["id"], "tag_ids": tag_ids}
                        await conn.fetch(ADD_TAGS.text, *ADD_TAGS.args(add))
                await _record_event(
                    conn, row["id"], user["id"], user["id"], "issue.created", event_data
                )
        issue_id = row["id"]
    staff = user["role"] in STAFF
    out = {
        "id": issue_id,
        "title": title,
        "status": row["status"],
        "severity": severity,
        "reporter": {"id": user["id"], "full_name": user["full_name"]},
        "assignee": None,
        "tags": sorted(tags),
        "comment_count": 0,
        "version": row["version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "resolved_at": None,
        "description": description,
        "description_html": description_html,
        "attachment_count": 0,
        "allowed_transitions": transitions(user["role"], row["status"]),
        "permissions": {
            "edit": True,
            "change_status": staff,
            "assign": staff,
            "tag": staff,
            "delete": user["role"] == "ADMIN",
            "comment": True,
            "attach": True,
            "delete_any_attachment": staff,
        },
    }
    headers = {"ETag": f'"{row["version"]}"', "Location": f"/api/issues/{issue_id}"}
    return respond(out, 201, headers)


async def update_issue(request: Request) -> Response:
    issue_id = _issue_id(request)
    if_match = request.headers.get("if-match", "")
    if not if_match.strip():
        raise HttpError(428, "if_match_required", "Send If-Match with the version you loaded")
    match = ETAG_RE.match(if_match)
    if match is None:
        raise HttpError(412, "version_mismatch", "If-Match does not name a version")
    version = int(match.group(1))
    body = await _json_body(request)
    extra = set(body) - {"title", "description", "severity", "status"}
    if extra:
        raise HttpError(422, "validation_error", f"not supported here: {', '.join(sorted(extra))}")
    patch: dict[str, str] = {}
    if "title" in body:
        patch["title"] = _title(body["title"])
    if "description" in body:
        patch["description"] = _text(body["description"], "description")
    if "severity" in body:
        patch["severity"] = _text(body["severity"], "severity", SEVERITIES)
    if "status" in body:
        patch["status"] = _text(body["status"], "status", STATUSES)

    async with request.app.state.pool.acquire() as conn:
        user = await authenticate(request, conn)
        staff = user["role"] in STAFF
        # The transaction begins with the row lock, as the API's does.
        async with conn.transaction():
            current = await conn.fetchrow(
                LOCK_FOR_UPDATE.text, *LOCK_FOR_UPDATE.args({"issue_id": issue_id})
            )
            if current is None or not (staff or current["reporter_id"] == user["id"]):
                raise HttpError(404, "issue_not_found", f"Issue {issue_id} not found")
            if "status" in patch and not staff:
                raise HttpError(403, "staff_only_field", "Only maintainers can change status")
            edits = patch.keys() & {"title", "description", "severity"}
            if edits and not staff and current["status"] != "OPEN":
                raise HttpError(403, "issue_locked", "This issue is no longer open")
            if version != current["version"]:
                raise HttpError(412, "version_mismatch", "This issue changed since you loaded it")
            values: dict[str, Any] = {}
            changes: dict[str, list[object]] = {}
            for name in ("title", "description", "severity"):
                if name in patch and patch[name] != current[name]:
                    values[name] = patch[name]
                    changes[name] = [current[name], patch[name]]
            if "description" in values:
                values["description_html"] = render_markdown(patch["description"])
            target = patch.get("status")
            if target is not None and target != current["status"]:
                if target not in transitions(user["role"], current["status"]):
                    raise HttpError(409, "invalid_transition", "not a valid workflow step")
                values["status"] = target
                values["resolved_at"] = NOW if target == "DONE" else None
                changes["status"] = [current["status"], target]
            if changes:
                # tracker.issues.repository.update_issue: the UPDATE for these fields; a
                # resolution time "now" comes from the database clock.
                params = {k: v for k, v in values.items() if not (k == "resolved_at" and v == NOW)}
                stmt = update_statement(update_names(values))
                params["issue_id"] = issue_id
                params["expected_version"] = current["version"]
                new_version = await conn.fetchrow(stmt.text, *stmt.args(params))
                if new_version is None:
                    raise HttpError(412, "version_mismatch", "This issue changed meanwhile")
                await _record_event(
                    conn, issue_id, current["reporter_id"], user["id"], "issue.updated",
                    {"changes": changes},
                )  # fmt: skip
            row = await _detail_row(conn, issue_id, user)
    if row is None:
        raise HttpError(404, "issue_not_found", f"Issue {issue_id} not found")
    return respond(detail(row, user), headers={"ETag": f'"{row["version"]}"'})


def _handle(endpoint: Any) -> Any:
    async def wrapped(request: Request) -> Response:
        try:
            response: Response = await endpoint(request)
        except HttpError as err:
            return problem(err, request.url.path)
        return response

    return wrapped


async def healthz(request: Request) -> Response:
    return respond({"status": "ok"})


def _dsn() -> tuple[str, bool]:
    """DATABASE_URL as asyncpg takes it, and whether the server is local (no TLS to try)."""
    url = os.environ["DATABASE_URL"]
    scheme, rest = url.split("://", 1)
    dsn = f"postgresql://{rest}" if scheme.startswith("postgresql") else url
    parts = urlsplit(dsn)
    query = parse_qs(parts.query)
    host = (query.get("host") or [parts.hostname or ""])[0]
    local = not host or host.startswith("/") or host in ("localhost", "127.0.0.1", "::1")
    return dsn, local and not {"ssl", "sslmode"} & set(query)


async def _keep(conn: asyncpg.Connection) -> None:
    """A connection goes back to the pool as it is, as SQLAlchemy's pool returns it (a rollback
    only when a transaction is open, which asyncpg does anyway): no reset statement per request."""


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    dsn, local = _dsn()
    # The API's pool: 30 connections, no overflow, never closed for being idle, no TLS attempt
    # on a local server.
    app.state.pool = await asyncpg.create_pool(
        dsn,
        min_size=30,
        max_size=30,
        max_inactive_connection_lifetime=0,
        reset=_keep,
        ssl=False if local else None,
        server_settings={"application_name": "tracker-baseline", "timezone": "UTC"},
    )
    app.state.secret = os.environ["SECRET_KEY"]
    listen = await asyncpg.connect(dsn, ssl=False if local else None)
    await listen.add_listener(ACCESS_CHANNEL, lambda *note: ACCESS.heard(note[3]))
    ACCESS.go_live()
    # As the API: what start-up loaded stays out of the collector's full passes.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        ACCESS.pause()
        await listen.close()
        await app.state.pool.close()


async def issue_route(request: Request) -> Response:
    handler = get_issue if request.method == "GET" else update_issue
    return await handler(request)


async def issues_route(request: Request) -> Response:
    handler = list_issues if request.method == "GET" else create_issue
    return await handler(request)


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/api/issues", _handle(issues_route), methods=["GET", "POST"]),
        Route("/api/issues/{issue_id}", _handle(issue_route), methods=["GET", "PATCH"]),
    ],
    lifespan=lifespan,
)
