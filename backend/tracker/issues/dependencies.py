"""Issue access: who may see and who may edit an issue, as dependencies named by capability.

A REPORTER only ever sees their own issues; for anyone else's they get 404 (not 403), so the
existence of other people's issues is not revealed.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from python_multipart.multipart import parse_options_header

from tracker.auth.dependencies import AppSettings, CurrentUser
from tracker.db import DbSession
from tracker.errors import PreconditionFailed, PreconditionRequired, UnsupportedMediaType
from tracker.inputs import decode_json
from tracker.issues import service
from tracker.issues.files import IssueFiles
from tracker.issues.models import Issue
from tracker.issues.schemas import IssueCreate
from tracker.multipart import ReceivedFile, is_multipart, receive_request_form

IssueId = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def issue_for_viewer(session: DbSession, user: CurrentUser, issue_id: IssueId) -> Issue:
    return await service.get_visible_issue(session, user, issue_id)


IssueForViewer = Annotated[Issue, Depends(issue_for_viewer)]


async def issue_files(request: Request) -> IssueFiles:
    """The IssueFiles the application was made with (tracker.app.create_app wires it)."""
    try:
        files: IssueFiles = request.app.state.issue_files
    except AttributeError:
        raise RuntimeError(
            "This application has no IssueFiles: issues cannot be filed with their files or "
            "deleted with them; make it with tracker.app.create_app"
        ) from None
    return files


IssueFileStore = Annotated[IssueFiles, Depends(issue_files)]

_ETAG = re.compile(r'^\s*(?:W/)?"?([0-9]{1,10})"?\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


# Read as a plain header and checked by `version_from_if_match` once the whole request has
# validated: a dependency that raised here would answer 412 to a request whose path or body
# is invalid, before validation could name the fields.
IfMatch = Annotated[
    str | None,
    Header(
        description='The version the change is based on, as the ETag gave it: "3"',
        examples=['"3"'],
    ),
]


def version_from_if_match(if_match: str | None) -> int:
    """The issue version a write is based on; writes without one are refused (lost updates)."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            'Send If-Match with the version you loaded (the ETag, e.g. "3")',
            code="if_match_required",
        )
    match = _ETAG.match(if_match)
    if match is None:
        raise PreconditionFailed(
            "If-Match does not name a version of this issue", code="version_mismatch"
        )
    return int(match.group(1))


@dataclass(frozen=True)
class NewIssue:
    """POST /issues's body: the issue's fields and the files sent with it (if any)."""

    data: IssueCreate
    files: list[ReceivedFile]


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return True  # what clients sending a bare body mean (and what FastAPI assumed before)
    media_type = parse_options_header(content_type)[0].decode("latin-1")
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _validated(raw: Any) -> IssueCreate:
    try:
        return IssueCreate.model_validate(raw)
    except ValidationError as exc:
        # Rendered like any other invalid body: 422 problem+json naming each field.
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


def _from_form(fields: dict[str, list[str]]) -> dict[str, Any]:
    """Form fields as IssueCreate's input: `tags` repeated, comma-separated, or both."""
    values: dict[str, Any] = {}
    for name, given in fields.items():
        if name == "tags":
            values[name] = [t for value in given for t in value.split(",") if t.strip()]
        else:
            # A field sent twice stays a list, which validation refuses by name.
            values[name] = given[0] if len(given) == 1 else given
    return values


async def new_issue(
    request: Request, user: CurrentUser, settings: AppSettings
) -> AsyncIterator[NewIssue]:
    """JSON, or multipart/form-data with the same fields plus `file` parts.

    It depends on the signed-in user, so the body of an anonymous or cross-site request is
    never read; received files are temporary and removed after the request unless they were
    attached (moved into place) in its committed transaction.
    """
    content_type = request.headers.get("content-type")
    if is_multipart(content_type):
        form = await receive_request_form(request, settings)
        try:
            yield NewIssue(_validated(_from_form(form.fields)), form.files)
        finally:
            form.discard()
        return
    if not _is_json(content_type):
        raise UnsupportedMediaType(
            "Send the issue as application/json, or as multipart/form-data to include files",
            code="unsupported_media_type",
        )
    try:
        raw = decode_json(await request.body())
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": reason, "ctx": {"error": reason}}]
        ) from None
    yield NewIssue(_validated(raw), [])


NewIssueBody = Annotated[NewIssue, Depends(new_issue)]
