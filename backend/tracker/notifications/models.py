"""The inbox: one row per recipient and thing that needs them, each person's choice of how to
be told, and the e-mail waiting to go out."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base, str_enum
from tracker.outbox import OutboxRow, outbox_indexes


class Kind(StrEnum):
    ASSIGNED = "assigned"
    MENTIONED = "mentioned"
    COMMENTED = "commented"
    STATUS_CHANGED = "status_changed"
    ATTACHMENT_ADDED = "attachment_added"


class Delivery(StrEnum):
    APP = "app"  # in the inbox only
    EMAIL = "email"  # and by e-mail at once
    DIGEST = "digest"  # and in a daily e-mail


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_recipient_id_id", "recipient_id", "id"),
        Index(
            "ix_notifications_unread",
            "recipient_id",
            postgresql_where=text("read_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[Kind] = mapped_column(str_enum(Kind, "notification_kind"))
    summary: Mapped[str] = mapped_column(String(300))
    # The newest event folded into this row: several changes by one person to one issue
    # within a minute are one notification.
    event_id: Mapped[int]
    changes: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    read_at: Mapped[datetime | None]
    # When this notification was put in an e-mail (at once or in a digest), if it was.
    mailed_at: Mapped[datetime | None]


class NotificationSetting(Base):
    """How a person is told about one kind; without a row, `DEFAULT_DELIVERY`."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[Kind] = mapped_column(str_enum(Kind, "notification_kind"), primary_key=True)
    delivery: Mapped[Delivery] = mapped_column(str_enum(Delivery, "notification_delivery"))


class OutgoingMail(OutboxRow, Base):
    """One e-mail to send (an outbox: tracker/outbox.py), written with what it tells."""

    __tablename__ = "outgoing_mail"
    __table_args__ = outbox_indexes("outgoing_mail")

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Stable across retries, so a message sent twice after a crash is recognisable.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(String(1000))


class EventCursor(Base):
    """How far a consumer of the activity history has read (the last event id it handled)."""

    __tablename__ = "notification_cursor"

    consumer: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(default=0)
