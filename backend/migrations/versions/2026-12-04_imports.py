"""Imports of issues from files: the imports themselves, and each issue's id elsewhere.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def upgrade() -> None:
    op.add_column("issues", sa.Column("external_id", sa.String(length=200), nullable=True))
    op.create_index(
        "uq_issues_external_id",
        "issues",
        ["external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "state", _enum("import_state", "queued", "running", "done", "failed"), nullable=False
        ),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("filename", sa.String(length=255), server_default="", nullable=False),
        sa.Column("on_error", _enum("import_on_error", "abort", "skip"), nullable=False),
        sa.Column(
            "unknown_reporters", _enum("import_unknown_people", "refuse", "create"), nullable=False
        ),
        sa.Column("mapping", postgresql.JSONB(), nullable=False),
        sa.Column("source", sa.LargeBinary(), nullable=True),
        *(
            sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)
            for name in (
                "total_rows",
                "processed_rows",
                "created_count",
                "updated_count",
                "unchanged_count",
                "refused_count",
            )
        ),
        sa.Column("refusals", postgresql.JSONB(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_imports_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_index(op.f("ix_imports_created_by_id"), "imports", ["created_by_id"])
    op.create_index(op.f("ix_imports_state"), "imports", ["state"])


def downgrade() -> None:
    op.drop_table("imports")
    op.drop_index("uq_issues_external_id", table_name="issues")
    op.drop_column("issues", "external_id")
