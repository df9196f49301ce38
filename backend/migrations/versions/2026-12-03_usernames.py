"""Every account gets a handle (`users.username`), the @name people are mentioned by.

Existing accounts get one made from their e-mail address's local part, lowercased, other
characters as `-`, with `-2`, `-3`… for collisions in the order the accounts were made. The
rule is written out here rather than imported, so this revision keeps meaning what it meant.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 12:20:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PATTERN = "^[a-z0-9_-]{2,39}$"


def _handle(email: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9_-]+", "-", email.split("@", 1)[0].lower()).strip("-")[:39].strip("-")
    if len(base) < 2:
        base = f"{base or 'user'}-1"[:39]
    handle, n = base, 2
    while handle in taken:
        suffix = f"-{n}"
        handle, n = base[: 39 - len(suffix)].rstrip("-") + suffix, n + 1
    return handle


def upgrade() -> None:
    op.add_column("users", sa.Column("username", sa.String(length=39), nullable=True))
    bind = op.get_bind()
    taken: set[str] = set()
    for user_id, email in bind.execute(sa.text("SELECT id, email FROM users ORDER BY id")):
        handle = _handle(email, taken)
        taken.add(handle)
        bind.execute(
            sa.text("UPDATE users SET username = :u WHERE id = :id"), {"u": handle, "id": user_id}
        )
    op.alter_column("users", "username", nullable=False)
    op.create_unique_constraint(op.f("uq_users_username"), "users", ["username"])
    op.create_check_constraint(op.f("ck_users_username_format"), "users", f"username ~ '{PATTERN}'")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_users_username_format"), "users", type_="check")
    op.drop_constraint(op.f("uq_users_username"), "users", type_="unique")
    op.drop_column("users", "username")
