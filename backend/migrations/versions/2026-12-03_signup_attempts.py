"""Sign-ups are counted per address, so that one address cannot create accounts (or ask which
addresses are registered) without limit.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signup_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_attempts")),
    )
    op.create_index(
        "ix_signup_attempts_ip_created_at", "signup_attempts", ["ip", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("signup_attempts")
