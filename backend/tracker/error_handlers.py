"""One rendering for every error: RFC 9457 problem+json, never a bare 500 page."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from tracker.errors import PROBLEM_JSON, TrackerError, problem_body
from tracker.inputs import PATTERN_MESSAGES, TOO_DEEP
from tracker.observability.logging import get_logger

log = get_logger("tracker.errors")


def _problem(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or str(loc[0] if loc else "request")


async def tracker_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TrackerError)
    return _problem(exc.status, exc.problem(request.url.path), exc.headers)


def _field_error(error: dict[str, Any]) -> dict[str, Any]:
    kind = error.get("type")
    message = error.get("msg", "invalid")
    if kind == "json_invalid":
        # FastAPI puts the decoder's position where a field name would be.
        return {
            "field": "body",
            "message": str(error.get("ctx", {}).get("error", message)),
            "type": kind,
        }
    if kind == "string_pattern_mismatch":
        message = PATTERN_MESSAGES.get(str(error.get("ctx", {}).get("pattern")), message)
    return {"field": _location(error.get("loc", ())), "message": message, "type": kind}


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(e) for e in exc.errors()]
    if any(e["type"] == "json_invalid" for e in errors):
        too_deep = any(e["message"] == TOO_DEEP for e in errors)
        detail = (
            f"The request body is {TOO_DEEP}" if too_deep else "The request body is not valid JSON"
        )
    else:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    body = problem_body(422, detail, "validation_error", instance=request.url.path, errors=errors)
    return _problem(422, body)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods of the first route template matching `path`, over every route with that
    template: what the resource supports, where Starlette names only the one route it tried."""
    methods: dict[str, set[str]] = {}
    for ctx in iter_route_contexts(app.routes):
        if ctx.path and ctx.methods:
            methods.setdefault(ctx.path, set()).update(ctx.methods)
    for template, supported in methods.items():
        if compile_path(template)[0].match(path):
            return sorted(supported)
    return []


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {
        400: "bad_request",
        404: "not_found",
        405: "method_not_allowed",
        401: "unauthorized",
        403: "forbidden",
    }
    detail = str(exc.detail)
    headers = dict(exc.headers or {})
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}"
    if exc.status_code == 405:
        allow = allowed_methods(request.app, request.url.path) or headers.get("Allow", "").split(
            ", "
        )
        headers["Allow"] = ", ".join(allow)
        detail = f"{request.url.path} supports {headers['Allow']}, not {request.method}"
    body = problem_body(
        exc.status_code, detail, codes.get(exc.status_code, "http_error"), instance=request.url.path
    )
    return _problem(exc.status_code, body, headers)


async def integrity_error(request: Request, exc: Exception) -> JSONResponse:
    # A constraint caught what the service did not: the input conflicts with stored data.
    log.warning("integrity_error", error=str(getattr(exc, "orig", exc)))
    body = problem_body(
        409, "The request conflicts with existing data", "conflict", instance=request.url.path
    )
    return _problem(409, body)


def _sqlstate(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str):
            return state
    return ""


async def database_error(request: Request, exc: Exception) -> JSONResponse:
    if _sqlstate(exc).startswith("22"):
        # Class 22 "data exception": the input itself is unusable (a NUL character in text, a
        # number out of range…), whichever field carried it. The client's mistake, not ours.
        log.info("invalid_value", error=str(getattr(exc, "orig", exc)))
        body = problem_body(
            422,
            "A value in the request cannot be stored: text must not contain NUL characters "
            "and numbers must be within range",
            "invalid_value",
            instance=request.url.path,
        )
        return _problem(422, body)
    log.error("database_error", error=str(exc))
    body = problem_body(
        503,
        "The database could not complete the request",
        "database_error",
        instance=request.url.path,
    )
    return _problem(503, body)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path)
    body = problem_body(
        500, "An unexpected error occurred", "internal_error", instance=request.url.path
    )
    return _problem(500, body)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TrackerError, tracker_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(IntegrityError, integrity_error)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(Exception, unexpected_error)
