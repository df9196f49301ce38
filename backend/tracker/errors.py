"""Typed errors and their one rendering: RFC 9457 problem+json with a stable `code`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_JSON = "application/problem+json"


class TrackerError(Exception):
    status: int = 400
    code: str = "bad_request"
    title: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code
        self.headers = headers or {}
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        return problem_body(
            self.status, self.detail, self.code, title=self.title, instance=instance, **self.extra
        )


def problem_body(
    status: int,
    detail: str,
    code: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


class BadRequest(TrackerError):
    status, code = 400, "bad_request"


class Unauthorized(TrackerError):
    status, code = 401, "unauthorized"

    def __init__(self, detail: str = "Authentication required", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(TrackerError):
    status, code = 403, "forbidden"


class NotFound(TrackerError):
    status, code = 404, "not_found"


class Conflict(TrackerError):
    status, code = 409, "conflict"


class PreconditionFailed(TrackerError):
    status, code = 412, "precondition_failed"


class PreconditionRequired(TrackerError):
    status, code = 428, "precondition_required"


class PayloadTooLarge(TrackerError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(TrackerError):
    status, code = 415, "unsupported_media_type"


class Unprocessable(TrackerError):
    status, code = 422, "validation_error"


class TooManyRequests(TrackerError):
    status, code = 429, "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(retry_after)})
        super().__init__(detail, **kw)


class ServiceUnavailable(TrackerError):
    status, code = 503, "unavailable"


class ProblemField(BaseModel):
    field: str = Field(description="The parameter's name, or the body field's dotted path")
    message: str
    type: str | None = Field(default=None, description="A stable kind, e.g. string_too_long")


class Problem(BaseModel):
    """RFC 9457 problem details: the body of every error response."""

    # Some problems carry more members (current_version, max_attachments…).
    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int = Field(ge=400, le=599)
    detail: str
    code: str = Field(description="Stable and machine-readable, e.g. issue_not_found")
    instance: str | None = Field(default=None, description="The request's path")
    errors: list[ProblemField] | None = Field(default=None, description="Each invalid value")


PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

_DESCRIPTIONS = {
    400: "The request cannot be used as sent",
    401: "Not signed in, or the access token is invalid or expired",
    403: "Signed in, but not allowed to do this",
    404: "No such resource, or one the caller may not see",
    405: "The path does not support this method (see the Allow header)",
    409: "The change conflicts with the resource's current state",
    412: "If-Match names a version the resource is no longer at",
    413: "The request body is larger than the API accepts",
    415: "The body's media type is not one the operation reads",
    422: "A value is invalid; `errors` names each one",
    428: "The change needs If-Match with the version it is based on",
    429: "Too many attempts; wait as long as Retry-After says",
    503: "A service the API depends on is unavailable",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}},
}


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """An OpenAPI response of the problem+json kind, for `responses=` of a route."""
    response: dict[str, Any] = {
        "description": description or _DESCRIPTIONS.get(status) or HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def problems(*statuses: int | tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route's problem+json answers: `problems(404, (409, "why"))`."""
    responses: dict[int | str, dict[str, Any]] = {}
    for entry in statuses:
        status, description = entry if isinstance(entry, tuple) else (entry, None)
        responses[status] = problem_response(status, description)
    return responses
