from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Computed,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import REAL, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from tracker.db import Base, Timestamped, str_enum

EXTERNAL_ID_MAX_LENGTH = 200


class Status(StrEnum):
    OPEN = "OPEN"
    TRIAGED = "TRIAGED"
    IN_PROGRESS = "IN_PROGRESS"
    DONE = "DONE"


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


SEVERITY_RANK_SQL = (
    "CASE severity WHEN 'LOW' THEN 1 WHEN 'MEDIUM' THEN 2 WHEN 'HIGH' THEN 3 "
    "WHEN 'CRITICAL' THEN 4 END"
)
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')"
)

issue_tags = Table(
    "issue_tags",
    Base.metadata,
    Column("issue_id", ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    # A tag's issues straight from the index (no table visit): the tag filter's lookup.
    Index("ix_issue_tags_tag_id_issue_id", "tag_id", "issue_id"),
)

# Search's own index (docs/adr/0014-search-terms.md): one row per distinct word (lexeme) of each
# issue's `search` vector, with the word's score in that issue. Filled and kept in step by
# triggers on `issues` (migration 0005), never written by the application. Ordered by word and
# then issue number, so an issue's newest matches for a word, and the intersection of several
# words, are read straight from the index, scores included, newest first.
search_terms = Table(
    "search_terms",
    Base.metadata,
    Column("lexeme", Text, nullable=False),
    Column("issue_id", Integer, nullable=False),
    Column("score", REAL, nullable=False),
    PrimaryKeyConstraint("lexeme", "issue_id", postgresql_include=["score"]),
)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = (Index("uq_tags_name_lower", func.lower(text("name")), unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Issue(Timestamped, Base):
    __tablename__ = "issues"
    __table_args__ = (
        CheckConstraint("char_length(title) BETWEEN 1 AND 200", name="title_length"),
        CheckConstraint("version >= 1", name="version_positive"),
        # Cursor pagination and sorting: every sort key ends in id, so pages never overlap.
        Index("ix_issues_created_at_id", "created_at", "id"),
        Index("ix_issues_updated_at_id", "updated_at", "id"),
        Index("ix_issues_severity_rank_id", "severity_rank", "id"),
        Index("ix_issues_reporter_id_created_at_id", "reporter_id", "created_at", "id"),
        # Someone's open work, newest first ("assigned to me"), without sorting all they ever had.
        Index("ix_issues_assignee_id_created_at_id", "assignee_id", "created_at", "id"),
        Index("ix_issues_status_created_at_id", "status", "created_at", "id"),
        Index("ix_issues_search", "search", postgresql_using="gin"),
        Index(
            "uq_issues_external_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index(
            "ix_issues_title_trgm",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Sanitised HTML rendered from the Markdown source on every write.
    description_html: Mapped[str] = mapped_column(Text, default="", server_default="")
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "severity"), index=True)
    status: Mapped[Status] = mapped_column(
        str_enum(Status, "status"), default=Status.OPEN, server_default=Status.OPEN.value
    )
    severity_rank: Mapped[int] = mapped_column(
        SmallInteger, Computed(SEVERITY_RANK_SQL, persisted=True)
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(default=1, server_default=text("1"))
    resolved_at: Mapped[datetime | None]
    # How many comments and attachments the issue has, for its summary and its page without
    # reading either table. Kept by triggers on `comments` and `attachments` in the transaction
    # that adds or removes one, whoever does it (migration 0009); never written by the
    # application, which keeps the issues domain free of its children.
    comment_count: Mapped[int] = mapped_column(server_default=text("0"))
    attachment_count: Mapped[int] = mapped_column(server_default=text("0"))
    search: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True), deferred=True
    )
    # The issue's id in the system it was imported from: a second import of the same file
    # finds the issue by it instead of filing it again (tracker.imports).
    external_id: Mapped[str | None] = mapped_column(String(EXTERNAL_ID_MAX_LENGTH))


class IssueWatch(Base):
    """Someone's choice to watch an issue or not (issues/watching.py); the reporter and the
    assignee watch without one."""

    __tablename__ = "issue_watches"

    issue_id: Mapped[int] = mapped_column(
        ForeignKey("issues.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    watching: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
