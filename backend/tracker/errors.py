"""Typed errors and their one rendering: RFC 9457 problem+json with a stable `code`."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

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
