"""One rendering for every error: RFC 9457 problem+json, never a bare 500 page."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tracker.errors import PROBLEM_JSON, TrackerError, problem_body
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


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _location(e.get("loc", ())),
            "message": e.get("msg", "invalid"),
            "type": e.get("type"),
        }
        for e in exc.errors()
    ]
    if any(e["type"] == "json_invalid" for e in errors):
        detail = "The request body is not valid JSON"
    else:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    body = problem_body(422, detail, "validation_error", instance=request.url.path, errors=errors)
    return _problem(422, body)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
    detail = str(exc.detail)
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"No route matches {request.method} {request.url.path}"
    body = problem_body(
        exc.status_code, detail, codes.get(exc.status_code, "http_error"), instance=request.url.path
    )
    return _problem(exc.status_code, body, dict(exc.headers or {}))


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
