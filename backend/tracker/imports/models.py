"""Imports of issues from a CSV or JSON file: the file, how to read it, and how far it got."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, deferred, mapped_column

from tracker.db import Base, str_enum


class ImportState(StrEnum):
    QUEUED = "queued"  # waiting for the worker
    RUNNING = "running"
    DONE = "done"  # committed: every valid row is in
    FAILED = "failed"  # nothing was imported; `error` and `refusals` say why


class OnError(StrEnum):
    ABORT = "abort"  # one refused row and nothing is imported
    SKIP = "skip"  # the valid rows are imported, the others reported


class UnknownPeople(StrEnum):
    REFUSE = "refuse"  # a row naming an address nobody has is refused
    CREATE = "create"  # an inactive REPORTER is made for it


class Import(Base):
    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    state: Mapped[ImportState] = mapped_column(
        str_enum(ImportState, "import_state"), default=ImportState.QUEUED, index=True
    )
    format: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(255), default="", server_default="")
    on_error: Mapped[OnError] = mapped_column(str_enum(OnError, "import_on_error"))
    unknown_reporters: Mapped[UnknownPeople] = mapped_column(
        str_enum(UnknownPeople, "import_unknown_people")
    )
    mapping: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    # The file as uploaded, until the import ends.
    source: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    total_rows: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    processed_rows: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    created_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    updated_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    unchanged_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    refused_count: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # [{row, reason}], the first REFUSALS_KEPT of them.
    refusals: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    started_at: Mapped[datetime | None]
    # Moved on by a running import as it goes: one silent for too long is taken up again.
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
