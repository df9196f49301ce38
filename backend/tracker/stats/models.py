from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base, str_enum
from tracker.issues.models import Severity, Status


class DailyStat(Base):
    """Issue counts per UTC day, status and severity, upserted by the worker."""

    __tablename__ = "daily_stats"
    __table_args__ = (
        UniqueConstraint("day", "status", "severity"),
        CheckConstraint("count >= 0", name="count_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date]
    status: Mapped[Status] = mapped_column(str_enum(Status, "status"))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "severity"))
    count: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
