"""The raw baseline: the benchmarked issue endpoints with the same SQL, the same JSON and the same
authentication as the tracker's API, written directly on asyncpg and Starlette.

No ORM, no dependency injection, no pydantic: the ratio ours/baseline in the benchmark table is
what those layers (and our middleware) cost on identical database work. Each request runs the
same statements in one transaction, as the API's request session does (BEGIN, the user lookup,
the endpoint's statements, COMMIT); the Markdown renderer is the project's own, so rendering
costs the same on both sides.

    DATABASE_URL=postgresql://... SECRET_KEY=... uvicorn baseline:app --app-dir bench --port 8100

Only the parts of the endpoints the benchmark exercises are here: listing with status, severity
and tag filters, full-text search, sorting and cursors; reading one issue; filing one; and
PATCH with If-Match for title, description, severity and status (the workflow step).
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from http import HTTPStatus
from typing import Any

import asyncpg
import jwt
import nh3
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracker.issues.markdown import render_markdown

STATUSES = ("OPEN", "TRIAGED", "IN_PROGRESS", "DONE")
SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")
STAFF = ("ADMIN", "MAINTAINER")
SORTS = ("created", "-created", "updated", "-updated", "severity", "-severity")
SORT_COLUMNS = {
    "created": "created_at",
    "updated": "updated_at",
    "severity": "severity_rank",
}
TAG_RE = re.compile(r"^[a-z0-9_\- ]{1,30}$")
ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d{1,10})"?\s*$')
MARK_START, MARK_STOP = "\x02", "\x03"
HEADLINE_OPTIONS = (
    f'StartSel="{MARK_START}", StopSel="{MARK_STOP}", MaxWords=35, MinWords=12, '
    'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
)
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

# The statements below are the API's own text, byte for byte (whitespace included), as
# PostgreSQL's statement log shows them: the same text means the same prepared statements and
# plans, so the ratio measures only what the layers above the driver cost.
ACCESS_SQL = (
    "SELECT users.id, users.email, users.full_name, users.password_hash, users.role, "
    "users.is_active, users.last_login_at, users.created_at, users.updated_at, EXISTS (SELECT * "
    "\nFROM refresh_tokens \nWHERE refresh_tokens.family_id = $1::UUID AND "
    "refresh_tokens.revoked_at IS NOT NULL) AS session_revoked \nFROM users "
    "\nWHERE users.id = $2::INTEGER"
)
SUMMARY_SELECT = (
    "SELECT issues.id, issues.title, issues.status, issues.severity, issues.version, "
    "issues.created_at, issues.updated_at, issues.resolved_at, issues.reporter_id, "
    "reporter.full_name AS reporter_name, issues.assignee_id, assignee.full_name AS assignee_name, "
    "(SELECT coalesce(array_agg(tags.name ORDER BY tags.name), '{}'::varchar[]) AS coalesce_1 "
    "\nFROM issue_tags JOIN tags ON tags.id = issue_tags.tag_id "
    "\nWHERE issue_tags.issue_id = issues.id) AS tags, (SELECT count(*) AS count_1 "
    "\nFROM comments \nWHERE comments.issue_id = issues.id) AS comment_count"
)
PEOPLE = (
    "JOIN users AS reporter ON reporter.id = issues.reporter_id "
    "LEFT OUTER JOIN users AS assignee ON assignee.id = issues.assignee_id"
)
DETAIL_SQL = (
    f"{SUMMARY_SELECT}, issues.description, issues.description_html, (SELECT count(*) AS count_2 "
    "\nFROM attachments \nWHERE attachments.issue_id = issues.id) AS attachment_count "
    f"\nFROM issues {PEOPLE} \nWHERE issues.id = $1::INTEGER"
)
DETAIL_SCOPED_SQL = f"{DETAIL_SQL} AND issues.reporter_id = $2::INTEGER"
LOCK_SQL = (
    "SELECT issues.id, issues.title, issues.description, issues.severity, issues.status, "
    "issues.reporter_id, issues.assignee_id, issues.version \nFROM issues "
    "\nWHERE issues.id = $1::INTEGER FOR UPDATE"
)
INSERT_ISSUE_SQL = (
    "INSERT INTO issues (title, description, description_html, severity, status, reporter_id, "
    "version) VALUES ($1::VARCHAR, $2::VARCHAR, $3::VARCHAR, $4, $5, $6::INTEGER, $7::INTEGER) "
    "RETURNING issues.id, issues.status, issues.version, issues.created_at, issues.updated_at"
)
EVENT_ORDER_LOCK = 7_354_201_106
EVENT_LOCK_SQL = "SELECT pg_advisory_xact_lock($1::BIGINT) AS pg_advisory_xact_lock_1"
EVENT_SQL = (
    "INSERT INTO issue_events (issue_id, issue_ref, reporter_id, actor_id, kind, data) "
    "VALUES ($1::INTEGER, $2::INTEGER, $3::INTEGER, $4::INTEGER, $5::VARCHAR, $6::JSONB) "
    "RETURNING issue_events.id, issue_events.created_at"
)
NOTIFY_SQL = "SELECT pg_notify($1::VARCHAR, $2) AS pg_notify_1"
CUSTOM_PLANS_SQL = "SET LOCAL plan_cache_mode = force_custom_plan"
# Relevance ranks at most this many matches, the newest (docs/adr/0011-bounded-search-ranking.md).
RANKED_CANDIDATES = 1000
RANK = (
    "CAST(ts_rank(candidates.search, websearch_to_tsquery({config}::REGCONFIG, {q}::VARCHAR)) "
    "AS DOUBLE PRECISION)"
)
AGE = "CAST(EXTRACT(epoch FROM issues.created_at) * 1000000 - 9000000000000000 AS DOUBLE PRECISION)"
CURSOR_CASTS = {
    "created": "TIMESTAMP WITH TIME ZONE",
    "updated": "TIMESTAMP WITH TIME ZONE",
    "severity": "SMALLINT",
    "rank": "FLOAT",
}


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


async def authenticate(request: Request, conn: asyncpg.Connection) -> asyncpg.Record:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HttpError(401, "not_authenticated", "Sign in first")
    try:
        claims = jwt.decode(
            token.strip(),
            request.app.state.secret,
            algorithms=["HS256"],
            issuer="tracker",
            options={"require": ["exp", "iat", "sub", "jti", "typ", "iss"]},
        )
        user_id = int(claims["sub"])
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise HttpError(401, "invalid_token", "The access token is invalid or expired") from exc
    if claims.get("typ") != "access":
        raise HttpError(401, "invalid_token", "The access token is invalid or expired")
    try:
        session_id = uuid.UUID(claims["sid"]) if "sid" in claims else None
    except (TypeError, ValueError) as exc:
        raise HttpError(401, "invalid_token", "The access token is invalid") from exc
    user = await conn.fetchrow(ACCESS_SQL, session_id, user_id)
    if user is None or not user["is_active"]:
        raise HttpError(401, "inactive_account", "This account is not active")
    # A token from a sign-in session that has ended (sign-out, refresh token reuse) is refused.
    if user["session_revoked"]:
        raise HttpError(401, "session_ended", "This session has ended; sign in again")
    return user


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


def snippet_html(headline: str | None) -> str | None:
    if not headline:
        return None
    escaped = html.escape(" ".join(headline.split()), quote=True)
    marked = escaped.replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>")
    return nh3.clean(marked, tags={"mark"}, attributes={})


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


def _choices(request: Request, name: str, allowed: tuple[str, ...]) -> list[str]:
    values = request.query_params.getlist(name)
    if any(v not in allowed for v in values):
        raise HttpError(422, "validation_error", f"{name} must be one of {', '.join(allowed)}")
    return values


class _Numbering:
    """Positional parameters numbered as SQLAlchemy numbers the API's statement: each named
    parameter once, in the order it is compiled, then the expanded IN lists after all of them."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.expanding: list[tuple[str, int]] = []

    def __call__(self, name: str) -> str:
        if name not in self.names:
            self.names.append(name)
        return f"${self.names.index(name) + 1}"

    def many(self, name: str, count: int) -> str:
        marks = []
        for i in range(count):
            if (name, i) not in self.expanding:
                self.expanding.append((name, i))
            marks.append(f"\x00{self.expanding.index((name, i))}\x00")
        return ", ".join(marks)

    def finish(self, sql: str) -> tuple[str, list[tuple[str, int | None]]]:
        base = len(self.names)
        for i in range(len(self.expanding)):
            sql = sql.replace(f"\x00{i}\x00", f"${base + i + 1}")
        return sql, [(n, None) for n in self.names] + list(self.expanding)


# (scoped, statuses, severities, tags, text, unassigned, assignee, reporter) -> its condition
# texts in the API's order (tracker.issues.repository._conditions).
def _conditions(shape: tuple[Any, ...], p: _Numbering) -> list[str]:
    scoped, statuses, severities, tag_count, text, unassigned, assignee, reporter = shape
    out = []
    if scoped:
        out.append(f"issues.reporter_id = {p('scope_reporter_id')}::INTEGER")
    if statuses:
        out.append(f"issues.status IN ({p.many('statuses', statuses)})")
    if severities:
        out.append(f"issues.severity IN ({p.many('severities', severities)})")
    for i in range(tag_count):
        out.append(
            "issues.id IN (SELECT issue_tags.issue_id \nFROM issue_tags "
            "\nWHERE issue_tags.tag_id = (SELECT tags.id \nFROM tags "
            f"\nWHERE lower(tags.name) = {p(f'tag_{i}')}))"
        )
    if text:
        out.append(f"issues.search @@ {_tsquery(p)}")
    if unassigned:
        out.append("issues.assignee_id IS NULL")
    elif assignee:
        out.append(f"issues.assignee_id = {p('assignee_id')}::INTEGER")
    if reporter:
        out.append(f"issues.reporter_id = {p('reporter_id')}::INTEGER")
    return out


def _tsquery(p: _Numbering) -> str:
    return f"websearch_to_tsquery({p('config')}::REGCONFIG, {p('q')}::VARCHAR)"


def _where(conditions: list[str]) -> str:
    if not conditions:
        return "true"
    if len(conditions) == 1:
        return conditions[0]
    # Inside a longer AND, SQLAlchemy parenthesises the custom @@ operator.
    return " AND ".join(f"({c})" if c.startswith("issues.search @@") else c for c in conditions)


def _headline(p: _Numbering) -> str:
    return (
        f"ts_headline({p('hl_config')}::REGCONFIG, coalesce(nullif(issues.description, "
        f"{p('hl_empty')}::VARCHAR), issues.title), {_tsquery(p)}, {p('hl_options')}::VARCHAR) "
        "AS snippet"
    )


def _ranked_sql(shape: tuple[Any, ...], has_cursor: bool) -> tuple[str, list[Any]]:
    """The bounded relevance order of tracker.issues.repository._ranked_page."""
    p = _Numbering()
    headline = _headline(p)
    candidates = (
        "WITH candidates AS \n(SELECT issues.id AS id, issues.search AS search, "
        "issues.created_at AS created_at \nFROM issues "
        f"\nWHERE {_where(_conditions(shape, p))} ORDER BY issues.created_at DESC, "
        f"issues.id DESC \n LIMIT {p('candidates')}::INTEGER)\n "
    )
    rank = RANK.format(config=p("config"), q=p("q"))
    after = ""
    if has_cursor:
        after = f"({p('cursor_key')}::FLOAT, {p('cursor_id')}::INTEGER)"
    limit = f"{p('limit')}::INTEGER"
    ranked_where = f" \nWHERE ({rank}, candidates.id) < {after} " if has_cursor else " "
    oldest = (
        "(issues.created_at, issues.id) < ((SELECT candidates.created_at \nFROM candidates "
        f"ORDER BY candidates.created_at ASC, candidates.id ASC \n LIMIT {p('one_a')}::INTEGER), "
        "(SELECT candidates.id \nFROM candidates ORDER BY candidates.created_at ASC, "
        f"candidates.id ASC \n LIMIT {p('one_b')}::INTEGER))"
    )
    older = [*_conditions(shape, p), oldest]
    if has_cursor:
        older.append(f"({AGE}, issues.id) < {after}")
    sql = (
        f"{candidates}{SUMMARY_SELECT}, {headline}, page.sort_key \nFROM issues JOIN ("
        "SELECT ranked.page_id AS page_id, ranked.sort_key AS sort_key \nFROM ("
        f"SELECT candidates.id AS page_id, {rank} AS sort_key \nFROM candidates{ranked_where}"
        f"ORDER BY {rank} DESC, candidates.id DESC \n LIMIT {limit}) AS ranked UNION ALL "
        "SELECT older.page_id AS page_id, older.sort_key AS sort_key \nFROM ("
        f"SELECT issues.id AS page_id, {AGE} AS sort_key \nFROM issues "
        f"\nWHERE {_where(older)} ORDER BY issues.created_at DESC, issues.id DESC "
        f"\n LIMIT {limit}) AS older) AS page ON page.page_id = issues.id {PEOPLE} "
        f"ORDER BY page.sort_key DESC, page.page_id DESC \n LIMIT {limit}"
    )
    return p.finish(sql)


def _sorted_sql(shape: tuple[Any, ...], sort: str, has_cursor: bool) -> tuple[str, list[Any]]:
    p = _Numbering()
    headline = f", {_headline(p)}" if shape[4] else ""
    kind = sort.lstrip("-")
    key = f"issues.{SORT_COLUMNS[kind]}"
    conditions = _conditions(shape, p)
    desc = sort.startswith("-")
    direction = "DESC" if desc else "ASC"
    if has_cursor:
        after = f"({p('cursor_key')}::{CURSOR_CASTS[kind]}, {p('cursor_id')}::INTEGER)"
        conditions.append(f"({key}, issues.id) {'<' if desc else '>'} {after}")
    sql = (
        f"{SUMMARY_SELECT}{headline}, page.sort_key \nFROM issues JOIN ("
        f"SELECT issues.id AS page_id, {key} AS sort_key \nFROM issues "
        f"\nWHERE {_where(conditions)} ORDER BY {key} {direction}, issues.id {direction} "
        f"\n LIMIT {p('limit')}::INTEGER) AS page ON page.page_id = issues.id {PEOPLE} "
        f"ORDER BY page.sort_key {direction}, page.page_id {direction}"
    )
    return p.finish(sql)


# Built once per shape, as the API builds its statements (and uses the text as the cache key).
_LIST_SQL: dict[tuple[Any, ...], tuple[str, list[Any]]] = {}


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
    if params.get("sort") is not None and sort.lstrip("-") not in SORT_COLUMNS:
        raise HttpError(400, "invalid_sort", f"sort must be one of {', '.join(SORTS)}")
    try:
        limit = int(params.get("limit", "25"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise HttpError(422, "validation_error", "limit must be between 1 and 100")
    cursor = params.get("cursor")
    after = decode_cursor(cursor, sort) if cursor else None

    async with request.app.state.pool.acquire() as conn, conn.transaction():
        user = await authenticate(request, conn)
        assignee = _user_filter(params.get("assignee_id"), user, allow_none=True)
        reporter = _user_filter(params.get("reporter_id"), user, allow_none=False)
        scope = None if user["role"] in STAFF else user["id"]
        shape = (
            scope is not None,
            len(statuses),
            len(severities),
            len(tags),
            text is not None,
            assignee == "none",
            assignee not in (None, "none"),
            reporter is not None,
        )
        cache_key = (*shape, sort, after is not None)
        built = _LIST_SQL.get(cache_key)
        if built is None:
            built = _LIST_SQL.setdefault(
                cache_key,
                _ranked_sql(shape, after is not None)
                if sort == "rank"
                else _sorted_sql(shape, sort, after is not None),
            )
        sql, spec = built
        values: dict[str, Any] = {
            "scope_reporter_id": scope,
            "statuses": statuses,
            "severities": severities,
            "config": "english",
            "q": text,
            "hl_config": "english",
            "hl_empty": "",
            "hl_options": HEADLINE_OPTIONS,
            "assignee_id": assignee,
            "reporter_id": reporter,
            "candidates": RANKED_CANDIDATES,
            "limit": limit + 1,
            "one_a": 1,
            "one_b": 1,
        }
        for i, name in enumerate(tags):
            values[f"tag_{i}"] = name.lower()
        if after is not None:
            values["cursor_key"], values["cursor_id"] = after
        args = [values[name] if i is None else values[name][i] for name, i in spec]
        if text is not None:
            # As the API: a plan for the actual words, this transaction only (docs/adr/0011).
            await conn.execute(CUSTOM_PLANS_SQL)
        rows = await conn.fetch(sql, *args)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{**summary(r), "snippet": snippet_html(r["snippet"]) if text else None} for r in rows]
    next_cursor = (
        encode_cursor(sort, rows[-1]["sort_key"], rows[-1]["id"]) if more and rows else None
    )
    return respond({"items": items, "next_cursor": next_cursor})


def _issue_id(request: Request) -> int:
    raw = request.path_params["issue_id"]
    if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
        raise HttpError(422, "validation_error", "issue id must be a positive integer")
    return int(raw)


async def get_issue(request: Request) -> Response:
    issue_id = _issue_id(request)
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        user = await authenticate(request, conn)
        if user["role"] in STAFF:
            row = await conn.fetchrow(DETAIL_SQL, issue_id)
        else:
            row = await conn.fetchrow(DETAIL_SCOPED_SQL, issue_id, user["id"])
        if row is None:  # inside the transaction: rolled back, as the API's session is
            raise HttpError(404, "issue_not_found", f"Issue {issue_id} not found")
    return respond(detail(row, user), headers={"ETag": f'"{row["version"]}"'})


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
    """tracker.realtime.service.record_event: ids handed out under the event-order lock."""
    await conn.execute(EVENT_LOCK_SQL, EVENT_ORDER_LOCK)
    event = await conn.fetchrow(
        EVENT_SQL, issue_id, issue_id, reporter_id, actor_id, kind, json.dumps(data)
    )
    payload = json.dumps(
        {"id": event["id"], "issue_id": issue_id, "reporter_id": reporter_id, "kind": kind}
    )
    await conn.execute(NOTIFY_SQL, "tracker_events", payload)


async def _ensure_tags(conn: asyncpg.Connection, names: list[str]) -> list[int]:
    """tracker.issues.repository.ensure_tags: one read when every tag exists (the usual case)."""
    lowered = sorted({n.lower() for n in names})
    marks = ", ".join(f"${i}" for i in range(1, len(lowered) + 1))
    sql = (
        "SELECT tags.id, lower(tags.name) AS lower_1 \nFROM tags "
        f"\nWHERE lower(tags.name) IN ({marks})"
    )
    found = {r["lower_1"]: r["id"] for r in await conn.fetch(sql, *lowered)}
    missing = [n for n in names if n.lower() not in found]
    if missing:
        values = ", ".join(f"(${i}::VARCHAR)" for i in range(1, len(missing) + 1))
        await conn.execute(
            f"INSERT INTO tags (name) VALUES {values} ON CONFLICT (lower(name)) DO NOTHING",
            *missing,
        )
        found = {r["lower_1"]: r["id"] for r in await conn.fetch(sql, *lowered)}
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
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        user = await authenticate(request, conn)
        row = await conn.fetchrow(
            INSERT_ISSUE_SQL,
            title, description, description_html, severity, "OPEN", user["id"], 1,
        )  # fmt: skip
        issue_id = row["id"]
        if tags:
            tag_ids = await _ensure_tags(conn, tags)
            pairs = ", ".join(
                f"(${2 * i + 1}::INTEGER, ${2 * i + 2}::INTEGER)" for i in range(len(tag_ids))
            )
            await conn.execute(
                f"INSERT INTO issue_tags (issue_id, tag_id) VALUES {pairs} ON CONFLICT DO NOTHING",
                *[v for tag_id in tag_ids for v in (issue_id, tag_id)],
            )
        event_data = {"title": title, "severity": severity, "tags": sorted(tags)}
        await _record_event(conn, issue_id, user["id"], user["id"], "issue.created", event_data)
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

    async with request.app.state.pool.acquire() as conn, conn.transaction():
        user = await authenticate(request, conn)
        staff = user["role"] in STAFF
        current = await conn.fetchrow(LOCK_SQL, issue_id)
        if current is None or not (staff or current["reporter_id"] == user["id"]):
            raise HttpError(404, "issue_not_found", f"Issue {issue_id} not found")
        if "status" in patch and not staff:
            raise HttpError(403, "staff_only_field", "Only maintainers can change status")
        if not staff and current["status"] != "OPEN":
            raise HttpError(403, "issue_locked", "This issue is no longer open")
        if version != current["version"]:
            raise HttpError(412, "version_mismatch", "This issue changed since you loaded it")
        # SET in the table's column order, as SQLAlchemy renders the API's UPDATE.
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
            changes["status"] = [current["status"], target]
        if changes:
            sets: list[str] = []
            args: list[object] = []

            def arg(value: object, cast: str = "") -> str:
                args.append(value)
                return f"${len(args)}{cast}"

            for name in ("title", "description", "description_html"):
                if name in values:
                    sets.append(f"{name}={arg(values[name], '::VARCHAR')}")
            for name in ("severity", "status"):
                if name in values:
                    sets.append(f"{name}={arg(values[name])}")
            sets.append(f"version=(issues.version + {arg(1, '::INTEGER')})")
            if "status" in values:
                if values["status"] == "DONE":
                    sets.append("resolved_at=now()")
                else:
                    sets.append(f"resolved_at={arg(None, '::TIMESTAMP WITH TIME ZONE')}")
            sets.append("updated_at=now()")
            where = (
                f"issues.id = {arg(issue_id, '::INTEGER')} "
                f"AND issues.version = {arg(current['version'], '::INTEGER')}"
            )
            new_version = await conn.fetchval(
                f"UPDATE issues SET {', '.join(sets)} WHERE {where} RETURNING issues.version",
                *args,
            )
            if new_version is None:
                raise HttpError(412, "version_mismatch", "This issue changed meanwhile")
            await _record_event(
                conn, issue_id, current["reporter_id"], user["id"], "issue.updated",
                {"changes": changes},
            )  # fmt: skip
        row = await conn.fetchrow(DETAIL_SQL, issue_id)
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


def _dsn() -> str:
    url = os.environ["DATABASE_URL"]
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # The same pool bounds as the API's engine (10 + 10 overflow).
    app.state.pool = await asyncpg.create_pool(
        _dsn(),
        min_size=10,
        max_size=20,
        server_settings={"application_name": "tracker-baseline", "timezone": "UTC"},
    )
    app.state.secret = os.environ["SECRET_KEY"]
    try:
        yield
    finally:
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
