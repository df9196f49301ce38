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

USER_SQL = (
    "SELECT users.id, users.email, users.full_name, users.password_hash, users.role, "
    "users.is_active, users.last_login_at, users.created_at, users.updated_at "
    "FROM users WHERE users.id = $1::INTEGER"
)
SESSION_ENDED_SQL = (
    "SELECT EXISTS (SELECT * FROM refresh_tokens WHERE refresh_tokens.family_id = $1::UUID "
    "AND refresh_tokens.revoked_at IS NOT NULL) AS anon_1"
)
SUMMARY_COLUMNS = (
    "issues.id, issues.title, issues.status, issues.severity, issues.version, "
    "issues.created_at, issues.updated_at, issues.resolved_at, issues.reporter_id, "
    "reporter.full_name AS reporter_name, issues.assignee_id, assignee.full_name AS assignee_name, "
    "(SELECT coalesce(array_agg(tags.name ORDER BY tags.name), '{}'::varchar[]) "
    "FROM issue_tags JOIN tags ON tags.id = issue_tags.tag_id "
    "WHERE issue_tags.issue_id = issues.id) AS tags, "
    "(SELECT count(*) FROM comments WHERE comments.issue_id = issues.id) AS comment_count"
)
PEOPLE = (
    "JOIN users AS reporter ON reporter.id = issues.reporter_id "
    "LEFT OUTER JOIN users AS assignee ON assignee.id = issues.assignee_id"
)
DETAIL_SQL = (
    f"SELECT {SUMMARY_COLUMNS}, issues.description, issues.description_html, "
    "(SELECT count(*) FROM attachments WHERE attachments.issue_id = issues.id) "
    f"AS attachment_count FROM issues {PEOPLE} WHERE issues.id = $1::INTEGER"
)
LOCK_SQL = (
    "SELECT issues.id, issues.title, issues.description, issues.severity, issues.status, "
    "issues.reporter_id, issues.assignee_id, issues.version FROM issues "
    "WHERE issues.id = $1::INTEGER FOR UPDATE"
)
EVENT_SQL = (
    "INSERT INTO issue_events (issue_id, issue_ref, reporter_id, actor_id, kind, data) "
    "VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING issue_events.id, issue_events.created_at"
)


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


def problem(err: HttpError) -> Response:
    body = {
        "type": "about:blank",
        "title": err.code,
        "status": err.status,
        "detail": err.detail,
    }
    raw = json.dumps({**body, "code": err.code}).encode()
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
    user = await conn.fetchrow(USER_SQL, user_id)
    if user is None or not user["is_active"]:
        raise HttpError(401, "inactive_account", "This account is not active")
    # A token from a sign-in session that has ended (sign-out, refresh token reuse) is refused.
    if session_id is not None and await conn.fetchval(SESSION_ENDED_SQL, session_id):
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
        },
    }


def snippet_html(headline: str | None) -> str | None:
    if not headline:
        return None
    marked = html.escape(headline, quote=True).replace(MARK_START, "<mark>")
    return nh3.clean(marked.replace(MARK_STOP, "</mark>"), tags={"mark"}, attributes={})


def encode_cursor(sort: str, key: object, row_id: int) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = json.dumps({"s": sort, "k": value, "i": row_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, sort: str) -> tuple[object, int]:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if payload["s"] != sort:
            raise ValueError(sort)
        key = payload["k"]
        if sort.lstrip("-") in ("created", "updated"):
            key = datetime.fromisoformat(key)
        return key, int(payload["i"])
    except (ValueError, KeyError, TypeError) as exc:
        raise HttpError(400, "invalid_cursor", "The cursor is not valid for this listing") from exc


def _choices(request: Request, name: str, allowed: tuple[str, ...]) -> list[str]:
    values = request.query_params.getlist(name)
    if any(v not in allowed for v in values):
        raise HttpError(422, "validation_error", f"{name} must be one of {', '.join(allowed)}")
    return values


async def list_issues(request: Request) -> Response:
    params = request.query_params
    statuses = _choices(request, "status", STATUSES)
    severities = _choices(request, "severity", SEVERITIES)
    tags = [t.strip().lower() for t in params.getlist("tag")[:10] if t.strip()]
    text = (params.get("q") or "").strip() or None
    sort = params.get("sort") or ("rank" if text else "-created")
    if sort != "rank" and sort.lstrip("-") not in SORT_COLUMNS:
        raise HttpError(400, "invalid_sort", "unknown sort")
    try:
        limit = int(params.get("limit", "25"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        raise HttpError(422, "validation_error", "limit must be between 1 and 100")

    args: list[object] = []

    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    where: list[str] = []
    tsquery = ""
    if text:
        tsquery = f"websearch_to_tsquery('english'::regconfig, {arg(text)}::varchar)"
    if statuses:
        where.append(f"issues.status IN ({', '.join(arg(s) for s in statuses)})")
    if severities:
        where.append(f"issues.severity IN ({', '.join(arg(s) for s in severities)})")
    for name in tags:
        where.append(
            "EXISTS (SELECT * FROM issue_tags, tags WHERE issue_tags.issue_id = issues.id "
            f"AND issue_tags.tag_id = tags.id AND lower(tags.name) = {arg(name)}::varchar)"
        )
    if tsquery:
        where.append(f"issues.search @@ {tsquery}")
    descending = sort.startswith("-") or sort == "rank"
    key = (
        f"ts_rank(issues.search, {tsquery})"
        if sort == "rank"
        else f"issues.{SORT_COLUMNS[sort.lstrip('-')]}"
    )
    cursor = params.get("cursor")
    if cursor:
        value, after_id = decode_cursor(cursor, sort)
        cast = "::real" if sort == "rank" else ""
        op = "<" if descending else ">"
        where.append(f"({key}, issues.id) {op} ({arg(value)}{cast}, {arg(after_id)}::integer)")
    direction = "DESC" if descending else "ASC"
    snippet = (
        f", ts_headline('english'::regconfig, coalesce(nullif(issues.description, ''), "
        f"issues.title), {tsquery}, {arg(HEADLINE_OPTIONS)}::varchar) AS snippet"
        if tsquery
        else ""
    )
    sql = (
        f"SELECT {SUMMARY_COLUMNS}{snippet}, page.sort_key FROM issues JOIN ("
        f"SELECT issues.id AS page_id, {key} AS sort_key FROM issues "
        f"WHERE {' AND '.join(where) or 'true'} "
        f"ORDER BY {key} {direction}, issues.id {direction} LIMIT {arg(limit + 1)}::integer"
        f") AS page ON page.page_id = issues.id {PEOPLE} "
        f"ORDER BY page.sort_key {direction}, page.page_id {direction}"
    )
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        await authenticate(request, conn)
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
        sql = DETAIL_SQL
        args: list[object] = [issue_id]
        if user["role"] not in STAFF:
            sql += " AND issues.reporter_id = $2::INTEGER"
            args.append(user["id"])
        row = await conn.fetchrow(sql, *args)
    if row is None:
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


async def _notify(
    conn: asyncpg.Connection, issue_id: int, reporter_id: int, event_id: int, kind: str
) -> None:
    payload = json.dumps(
        {"id": event_id, "issue_id": issue_id, "reporter_id": reporter_id, "kind": kind}
    )
    await conn.execute("SELECT pg_notify($1::varchar, $2::varchar)", "tracker_events", payload)


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
            "INSERT INTO issues (title, description, description_html, severity, status, "
            "reporter_id, version) VALUES ($1, $2, $3, $4, $5, $6, $7) "
            "RETURNING issues.id, issues.status, issues.version, issues.created_at, "
            "issues.updated_at",
            title, description, description_html, severity, "OPEN", user["id"], 1,
        )  # fmt: skip
        issue_id = row["id"]
        if tags:
            marks = ", ".join(f"(${i})" for i in range(1, len(tags) + 1))
            await conn.execute(
                f"INSERT INTO tags (name) VALUES {marks} ON CONFLICT (lower(name)) DO NOTHING",
                *tags,
            )
            names = ", ".join(f"${i}" for i in range(1, len(tags) + 1))
            tag_rows = await conn.fetch(
                f"SELECT tags.id FROM tags WHERE lower(tags.name) IN ({names})", *tags
            )
            tag_ids = [r["id"] for r in tag_rows]
            not_in = ", ".join(f"${i}" for i in range(2, len(tag_ids) + 2))
            await conn.execute(
                f"DELETE FROM issue_tags WHERE issue_tags.issue_id = $1 "
                f"AND issue_tags.tag_id NOT IN ({not_in})",
                issue_id,
                *tag_ids,
            )
            pairs = ", ".join(f"($1, ${i})" for i in range(2, len(tag_ids) + 2))
            await conn.execute(
                f"INSERT INTO issue_tags (issue_id, tag_id) VALUES {pairs} ON CONFLICT DO NOTHING",
                issue_id,
                *tag_ids,
            )
        event_data = {"title": title, "severity": severity, "tags": sorted(tags)}
        event = await conn.fetchrow(
            EVENT_SQL,
            issue_id, issue_id, user["id"], user["id"], "issue.created", json.dumps(event_data),
        )  # fmt: skip
        await _notify(conn, issue_id, user["id"], event["id"], "issue.created")
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
        sets: list[str] = []
        args: list[object] = []
        changes: dict[str, list[object]] = {}
        for name in ("title", "description", "severity"):
            if name in patch and patch[name] != current[name]:
                args.append(patch[name])
                sets.append(f"{name}=${len(args)}")
                changes[name] = [current[name], patch[name]]
        if "description" in changes:
            args.append(render_markdown(patch["description"]))
            sets.append(f"description_html=${len(args)}")
        target = patch.get("status")
        if target is not None and target != current["status"]:
            if target not in transitions(user["role"], current["status"]):
                raise HttpError(409, "invalid_transition", "not a valid workflow step")
            args.append(target)
            sets.append(f"status=${len(args)}")
            sets.append("resolved_at=now()" if target == "DONE" else "resolved_at=NULL")
            changes["status"] = [current["status"], target]
        if changes:
            args += [issue_id, current["version"]]
            new_version = await conn.fetchval(
                f"UPDATE issues SET {', '.join(sets)}, version=(issues.version + 1), "
                f"updated_at=now() WHERE issues.id = ${len(args) - 1} "
                f"AND issues.version = ${len(args)} RETURNING issues.version",
                *args,
            )
            if new_version is None:
                raise HttpError(412, "version_mismatch", "This issue changed meanwhile")
            event = await conn.fetchrow(
                EVENT_SQL,
                issue_id, issue_id, current["reporter_id"], user["id"], "issue.updated",
                json.dumps({"changes": changes}),
            )  # fmt: skip
            await _notify(conn, issue_id, current["reporter_id"], event["id"], "issue.updated")
        row = await conn.fetchrow(DETAIL_SQL, issue_id)
    return respond(detail(row, user), headers={"ETag": f'"{row["version"]}"'})


def _handle(endpoint: Any) -> Any:
    async def wrapped(request: Request) -> Response:
        try:
            response: Response = await endpoint(request)
        except HttpError as err:
            return problem(err)
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
