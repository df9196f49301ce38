"""Request and response bodies of the issue endpoints."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    MISSING,
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from tracker.inputs import ID_TEXT, INT4_MAX, NOT_BLANK, NUL_FREE, described, strip_blank
from tracker.issues.models import Severity, Status
from tracker.refs import UserRef

MAX_TAGS = 10
MAX_DESCRIPTION = 50_000
TAG_PATTERN = re.compile(r"^[a-z0-9_\- ]{1,30}$")

# Stored without the blanks around it; the length is the length sent, blanks included.
Title = Annotated[
    str, StringConstraints(max_length=200, pattern=NOT_BLANK), AfterValidator(strip_blank)
]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION, pattern=NUL_FREE)]
# As sent: spaces around and between words are tidied, capitals lowered (see normalize_tags).
TAG_AS_SENT = described(
    r"^ *[A-Za-z0-9_-]+(?: +[A-Za-z0-9_-]+)* *$",
    "a tag is 1-30 letters, digits, spaces, '-' or '_'",
)
Tag = Annotated[str, StringConstraints(max_length=30, pattern=TAG_AS_SENT)]
Tags = Annotated[list[Tag], Field(max_length=MAX_TAGS)]

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
    tags: Tags = Field(default_factory=list)

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
                "items": {"type": "string", "pattern": "^[ ,A-Za-z0-9_-]*$"},
                "description": "Repeat the field, or separate tags with commas",
            },
            "file": {
                "type": "array",
                "items": {"type": "string", "format": "binary", "minLength": 1},
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

    # Absent means unchanged; these are not nullable, so null is refused naming the field.
    title: Title | MISSING = MISSING
    description: Description | MISSING = MISSING
    severity: Severity | MISSING = MISSING
    tags: Tags | None = None
    assignee_id: int | None = Field(default=None, ge=1, le=INT4_MAX)
    status: Status | MISSING = MISSING

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalize_tags(value)


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
    watching: bool = Field(description="Whether you are told about its changes")
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
    text: Description


class MarkdownPreviewOut(BaseModel):
    html: str


Sort = Literal["created", "-created", "updated", "-updated", "severity", "-severity"]
SORTS: tuple[str, ...] = get_args(Sort)


USER_FILTER = described(
    f"^(?:{ID_TEXT}|me|none)$", "must be a user id (1 to 2147483647), me or none"
)
REPORTER_FILTER = described(f"^(?:{ID_TEXT}|me)$", "must be a user id (1 to 2147483647) or me")


class IssueFilters(BaseModel):
    """What an issue listing shows and in which order (a saved view stores these)."""

    status: list[Status] = Field(default_factory=list)
    severity: list[Severity] = Field(default_factory=list)
    tag: list[Annotated[str, StringConstraints(max_length=30, pattern=NUL_FREE)]] = Field(
        default_factory=list
    )
    q: str | None = Field(
        default=None, max_length=200, pattern=NUL_FREE, description="full-text search"
    )
    assignee_id: str | None = Field(
        default=None, pattern=USER_FILTER, description="a user id, `me` or `none`"
    )
    reporter_id: str | None = Field(
        default=None, pattern=REPORTER_FILTER, description="a user id or `me`"
    )
    sort: Sort | None = Field(default=None, description="default -created, or relevance with `q`")


class IssueQuery(IssueFilters):
    """Filters and ordering of an issue listing: GET /issues's query string, validated in one
    pass (one model rather than a parameter each)."""

    cursor: str | None = Field(
        default=None,
        max_length=200,
        pattern="^[A-Za-z0-9_-]*$",
        description="The next_cursor of the previous page, with the same filters and sort",
    )
    limit: int = Field(default=25, ge=1, le=PAGE_MAX)


# ---- bulk changes --------------------------------------------------------------------------

BULK_MAX = 500


class BulkChanges(BaseModel):
    """What to change on every issue; absent fields stay as they are on each."""

    model_config = ConfigDict(extra="forbid")

    status: Status | MISSING = MISSING
    severity: Severity | MISSING = MISSING
    assignee_id: int | None = Field(
        default=None, ge=1, le=INT4_MAX, description="null unassigns; absent leaves each as it is"
    )
    add_tags: Tags = Field(default_factory=list)
    remove_tags: Tags = Field(default_factory=list)

    @field_validator("add_tags", "remove_tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return normalize_tags(value)


class BulkUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    issue_ids: list[Annotated[int, Field(ge=1, le=INT4_MAX)]] = Field(
        min_length=1, max_length=BULK_MAX, description="Each issue is changed on its own"
    )
    changes: BulkChanges


class BulkApplied(BaseModel):
    id: int
    version: int
    changed: bool = Field(description="false: it already was as asked, and no event was recorded")


class BulkRefused(BaseModel):
    id: int
    status: int = Field(description="The status a PATCH of this issue alone would have had")
    code: str
    detail: str


class BulkResult(BaseModel):
    applied: list[BulkApplied]
    refused: list[BulkRefused]


class ExportQuery(IssueFilters):
    """The list's filters and search (its sort is not used: an export is in issue order)."""

    format: Literal["csv", "json"] = Field(default="csv", description="CSV (RFC 4180) or JSON")
