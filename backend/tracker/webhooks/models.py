"""Webhook endpoints, their deliveries (an outbox: tracker/outbox.py) and each try's record."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base, Timestamped, str_enum
from tracker.outbox import OutboxRow, outbox_indexes

URL_MAX_LENGTH = 2048
DESCRIPTION_MAX_LENGTH = 500
ERROR_MAX_LENGTH = 500
# How much of a receiver's answer is kept with each try.
EXCERPT_MAX_LENGTH = 1024


class WebhookEndpoint(Timestamped, Base):
    """Where an ADMIN asked for events to be POSTed, and which kinds."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint(f"char_length(url) <= {URL_MAX_LENGTH}", name="url_length"),
        CheckConstraint("cardinality(events) >= 1", name="events_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(
        String(DESCRIPTION_MAX_LENGTH), default="", server_default=""
    )
    # Activity kinds (issue.created…), or just "*" for every kind.
    events: Mapped[list[str]] = mapped_column(ARRAY(String(40)))
    # Signs every delivery; the worker needs it as it is, so it is stored as it is and shown
    # only when made (creation, rotation).
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    # Only events after this id reach the endpoint: nothing from before it was registered, or
    # from while it was switched off.
    since_event_id: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class WebhookDelivery(OutboxRow, Base):
    """One event for one endpoint. Its id is the X-Tracker-Delivery header, the same on every
    try, so a receiver can tell a repeat."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # One delivery per event and endpoint, however often events are turned into deliveries.
        UniqueConstraint("endpoint_id", "event_id"),
        *outbox_indexes("webhook_deliveries"),
    )

    id: Mapped[uuid.UUID] = mapped_column(
        primary_key=True, server_default=text("gen_random_uuid()")
    )
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("issue_events.id", ondelete="CASCADE"))


class AttemptOutcome(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class WebhookAttempt(Base):
    """One try of a delivery: written when it starts, completed when the answer is in. One
    left without an outcome was cut short (the worker stopped mid-try)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_delivery_id_id", "delivery_id", "id"),
        CheckConstraint(
            f"char_length(response_excerpt) <= {EXCERPT_MAX_LENGTH}", name="excerpt_length"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    started_at: Mapped[datetime]
    outcome: Mapped[AttemptOutcome | None] = mapped_column(str_enum(AttemptOutcome, "outcome"))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    error: Mapped[str | None] = mapped_column(String(ERROR_MAX_LENGTH))
    duration_ms: Mapped[int | None]
    response_excerpt: Mapped[str | None] = mapped_column(Text)


class WebhookCursor(Base):
    """The last issue_events id turned into deliveries (one row). Event ids commit in id order,
    so every event after it is still to be turned into deliveries."""

    __tablename__ = "webhook_cursor"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False, default=1)
    last_event_id: Mapped[int] = mapped_column(default=0, server_default=text("0"))
