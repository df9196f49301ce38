"""The activity history: one row per change to an issue, also the realtime feed's source."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base


class IssueEvent(Base):
    """One change to an issue: the activity history and the realtime feed.

    Events outlive a deleted issue (issue_id becomes NULL, `issue_ref` keeps the number) so the
    deletion itself stays in the audit trail and reaches live subscribers on resume.
    """

    __tablename__ = "issue_events"
    __table_args__ = (Index("ix_issue_events_issue_id_id", "issue_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id", ondelete="SET NULL"))
    issue_ref: Mapped[int]
    # The issue's reporter at the time, so per-role scoping works after deletion too.
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), index=True)
