"""Saved views: a named set of issue filters, search and sort, one person's or the team's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base, Timestamped

NAME_MAX_LENGTH = 60


class SavedView(Timestamped, Base):
    __tablename__ = "saved_views"
    # One name per owner, whatever its case.
    __table_args__ = (
        Index("uq_saved_views_owner_id_name", "owner_id", text("lower(name)"), unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    # tracker.issues.schemas.IssueFilters, as validated when saved.
    filters: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Shared views are listed for everyone; only staff share.
    shared: Mapped[bool] = mapped_column(default=False, server_default=text("false"), index=True)
