from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from tracker.inputs import NUL_FREE, described
from tracker.outbox import OutboxState
from tracker.webhooks.models import DESCRIPTION_MAX_LENGTH, URL_MAX_LENGTH, AttemptOutcome

# The activity kinds recorded in issue_events (tracker.activity.service.record_event), which
# the live feed carries too; a test checks that every kind the code records is listed.
EVENT_KINDS: dict[str, str] = {
    "issue.created": "An issue was filed",
    "issue.updated": "An issue's title, description, severity, status, assignee or tags changed",
    "issue.deleted": "An issue was deleted",
    "issue.imported": "An issue was filed or updated by an import",
    "comment.created": "A comment was added",
    "comment.updated": "A comment was edited",
    "comment.deleted": "A comment was deleted",
    "attachment.added": "A file was attached",
    "attachment.deleted": "A file was removed",
}
ALL_EVENTS = "*"

# An http(s) URL without spaces or control characters; what else a URL needs (a host that
# resolves to a public address…) is checked by the service and answered with its own code.
URL_PATTERN = described(
    r"^[hH][tT][tT][pP][sS]?://[^\x00-\x20\x7f]+$",
    "must be an http:// or https:// URL without spaces",
)

EventName = Annotated[
    str,
    WithJsonSchema({"type": "string", "enum": [*EVENT_KINDS, ALL_EVENTS]}),
]
Url = Annotated[
    str,
    Field(
        max_length=URL_MAX_LENGTH,
        pattern=URL_PATTERN,
        description="Where deliveries are POSTed: http:// or https://, a public address",
        examples=["https://hooks.example.com/tracker"],
    ),
]
Description = Annotated[
    str,
    Field(max_length=DESCRIPTION_MAX_LENGTH, pattern=NUL_FREE, description="What it is for"),
]
Events = Annotated[
    list[EventName],
    Field(
        min_length=1,
        max_length=len(EVENT_KINDS) + 1,
        description='Activity kinds to deliver, or ["*"] for every kind',
        examples=[["issue.created", "comment.created"], ["*"]],
    ),
]


def normalized_events(events: list[str]) -> list[str]:
    """Known kinds only (every unknown one named in the error), each once, in the order of
    EVENT_KINDS; "*" alone when it is there at all."""
    unknown = [e for e in dict.fromkeys(events) if e not in EVENT_KINDS and e != ALL_EVENTS]
    if unknown:
        raise PydanticCustomError(
            "unknown_event_kind",
            "unknown event kinds: {unknown}; use any of {known}, or * for every kind",
            {"unknown": ", ".join(unknown), "known": ", ".join(EVENT_KINDS)},
        )
    if ALL_EVENTS in events:
        return [ALL_EVENTS]
    return [kind for kind in EVENT_KINDS if kind in events]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: Events
    description: Description = ""
    active: bool = True

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str]) -> list[str]:
        return normalized_events(events)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: Events | None = None
    description: Description | None = None
    active: bool | None = None

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str] | None) -> list[str] | None:
        return None if events is None else normalized_events(events)


class LastDelivery(BaseModel):
    id: uuid.UUID
    event: str
    state: OutboxState
    at: datetime = Field(description="When it was last tried, or queued if not tried yet")


class WebhookOut(BaseModel):
    id: int
    url: str
    description: str
    events: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime
    last_delivery: LastDelivery | None = Field(description="The newest event's delivery")


class WebhookWithSecret(WebhookOut):
    """Shown once, when the endpoint is made or its secret rotated: the secret is never
    returned again."""

    secret: str = Field(description="Signs every delivery (X-Tracker-Signature); keep it safe")


class EventKind(BaseModel):
    kind: str
    description: str


class AttemptOut(BaseModel):
    id: int
    started_at: datetime
    outcome: AttemptOutcome | None = Field(
        description="null: no answer was recorded (in flight, or the worker stopped mid-try)"
    )
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered")
    error: str | None = Field(description="Why the try failed without an answer, or what failed")
    duration_ms: int | None
    response_excerpt: str | None = Field(description="The first 1024 characters of the answer")


class DeliveryOut(BaseModel):
    id: uuid.UUID = Field(description="Also X-Tracker-Delivery and the payload's id")
    event: str
    event_id: int
    issue_id: int
    state: OutboxState
    tries: int = Field(description="Tries in the current schedule (a redelivery starts anew)")
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None = Field(description="When it was delivered or given up on")
    attempt_count: int = Field(description="Every try ever made")
    attempts: list[AttemptOut] = Field(description="The newest tries, newest first")


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
