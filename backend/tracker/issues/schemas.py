"""Request and response bodies of the issue endpoints."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from tracker.issues.models import Severity, Status

MAX_TAGS = 10
MAX_DESCRIPTION = 50_000
TAG_PATTERN = re.compile(r"^[a-z0-9_\- ]{1,30}$")

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)]

# The most items a list page holds.
PAGE_MAX = 100


def normalize_tags(raw: list[str]) -> list[str]:
    """Lower-case, trimmed, inner spaces collapsed, duplicates dropped (first spelling wins)."""
    tags: list[str] = []
    for value in raw:
        name = " ".join(value.split()).lower()
        if not TAG_PATTERN.fullmatch(name):
            raise ValueError(
                f"tag {value!r} must be 1-30 characters of letters, digits, spaces, '-' or '_'"
            )
        if name not in tags:
            tags.append(name)
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags per issue")
    return tags


class IssueCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description = ""
    severity: Severity = Severity.MEDIUM
    tags: list[str] = Field(default_factory=list, max_length=50)

    _tags = field_validator("tags")(normalize_tags)


def _create_request_body() -> dict[str, Any]:
    """POST /issues's two bodies for OpenAPI: the endpoint reads the body itself, so FastAPI
    cannot describe it. Severity is referenced from the components other routes put there."""
    json_schema = IssueCreate.model_json_schema(ref_template="#/components/schemas/{model}")
    json_schema.pop("$defs", None)
    properties = json_schema["properties"]
    form_schema = {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": properties["title"],
            "description": properties["description"],
            "severity": properties["severity"],
            "tags": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Repeat the field, or separate tags with commas",
            },
            "file": {
                "type": "array",
                "items": {"type": "string", "format": "binary"},
                "description": "One part per file",
            },
        },
    }
    return {
        "required": True,
        "content": {
            "application/json": {"schema": json_schema},
            "multipart/form-data": {"schema": form_schema},
        },
    }


CREATE_REQUEST_BODY = _create_request_body()


class IssueUpdate(BaseModel):
    """Only the fields present are changed; `assignee_id: null` unassigns."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    severity: Severity | None = None
    tags: list[str] | None = Field(default=None, max_length=50)
    assignee_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    status: Status | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalize_tags(value)

    @field_validator("title", "description", "severity", "status")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value


class UserRef(BaseModel):
    id: int
    full_name: str


class IssueSummary(BaseModel):
    id: int
    title: str
    status: Status
    severity: Severity
    reporter: UserRef
    assignee: UserRef | None
    tags: list[str]
    comment_count: int
    version: int
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None


class IssueListItem(IssueSummary):
    snippet: str | None = Field(
        default=None,
        description="With `q`: a passage of the description (or title) where the matches are "
        "wrapped in <mark>; all other markup is escaped.",
    )


class IssuePage(BaseModel):
    items: list[IssueListItem]
    next_cursor: str | None


class IssuePermissions(BaseModel):
    edit: bool = Field(description="title, description and severity")
    change_status: bool
    assign: bool
    tag: bool
    delete: bool
    comment: bool
    attach: bool = Field(description="upload files to it")
    delete_any_attachment: bool = Field(
        description="delete anyone's file on it (everyone may delete the files they uploaded)"
    )


class IssueDetail(IssueSummary):
    description: str
    description_html: str
    attachment_count: int
    allowed_transitions: list[Status]
    permissions: IssuePermissions


class SimilarIssue(BaseModel):
    id: int
    title: str
    status: Status
    similarity: float


class TagOut(BaseModel):
    id: int
    name: str
    issue_count: int


class EventOut(BaseModel):
    id: int
    issue_id: int | None
    actor: UserRef | None
    kind: str
    data: dict[str, Any]
    created_at: datetime


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


class MarkdownPreviewIn(BaseModel):
    text: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)]


class MarkdownPreviewOut(BaseModel):
    html: str


SORTS = ("created", "-created", "updated", "-updated", "severity", "-severity")


USER_FILTER = r"^(\d{1,10}|me|none)$"


class IssueQuery(BaseModel):
    """Filters and ordering of an issue listing: GET /issues's query string, validated in one
    pass (one model rather than a parameter each)."""

    status: list[Status] = Field(default_factory=list)
    severity: list[Severity] = Field(default_factory=list)
    tag: list[Annotated[str, StringConstraints(max_length=30)]] = Field(default_factory=list)
    q: str | None = Field(default=None, max_length=200, description="full-text search")
    assignee_id: str | None = Field(
        default=None, pattern=USER_FILTER, description="a user id, `me` or `none`"
    )
    reporter_id: str | None = Field(
        default=None, pattern=r"^(\d{1,10}|me)$", description="a user id or `me`"
    )
    sort: str | None = Field(
        default=None,
        description=f"one of {', '.join(SORTS)}; default -created, or relevance with `q`",
    )
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=25, ge=1, le=PAGE_MAX)
