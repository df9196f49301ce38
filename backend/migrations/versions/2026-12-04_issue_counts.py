"""An issue's comment and attachment counts become columns of `issues`, kept by the database.

`issues.comment_count` and `issues.attachment_count` (NOT NULL DEFAULT 0) are filled here from
the rows that exist, then kept by row triggers on `comments` and `attachments`, inside the
transaction that inserts, deletes or moves a row: whoever writes (the API, the worker, a script,
a test) cannot leave a count wrong, and a rolled-back change leaves it as it was. A TRUNCATE of
either table sets its counts back to 0. When an issue is deleted, the cascade's triggers find
no issue to update.

So a list page or an issue's page reads two integers instead of counting rows in two other
tables, and the issues domain's SQL names neither (the domains built on issues import it, never
the other way round). Like `search_terms` (migration 0005) the counts are derived data: the
application never writes them, and bulk loads that disable the triggers write them themselves
(bench/seed.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _triggers(table: str) -> None:
    """The triggers that keep `table`'s count, calling the functions made for it."""
    op.execute(
        f"CREATE TRIGGER {table}_count AFTER INSERT OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION count_{table}()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_count_move AFTER UPDATE OF issue_id ON {table} "
        f"FOR EACH ROW WHEN (OLD.issue_id IS DISTINCT FROM NEW.issue_id) "
        f"EXECUTE FUNCTION count_{table}()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_count_truncate AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION count_{table}_truncated()"
    )


def upgrade() -> None:
    op.add_column(
        "issues",
        sa.Column("comment_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.execute(
        """
        UPDATE issues SET comment_count = counted.n
        FROM (SELECT issue_id, count(*) AS n FROM comments GROUP BY issue_id) AS counted
        WHERE issues.id = counted.issue_id
        """
    )
    op.execute(
        """
        CREATE FUNCTION count_comments() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                UPDATE issues SET comment_count = comment_count - 1 WHERE id = OLD.issue_id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                UPDATE issues SET comment_count = comment_count + 1 WHERE id = NEW.issue_id;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION count_comments_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE issues SET comment_count = 0 WHERE comment_count <> 0;
            RETURN NULL;
        END
        $$
        """
    )
    _triggers("comments")
    op.add_column(
        "issues",
        sa.Column("attachment_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.execute(
        """
        UPDATE issues SET attachment_count = counted.n
        FROM (SELECT issue_id, count(*) AS n FROM attachments GROUP BY issue_id) AS counted
        WHERE issues.id = counted.issue_id
        """
    )
    op.execute(
        """
        CREATE FUNCTION count_attachments() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                UPDATE issues SET attachment_count = attachment_count - 1 WHERE id = OLD.issue_id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                UPDATE issues SET attachment_count = attachment_count + 1 WHERE id = NEW.issue_id;
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION count_attachments_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE issues SET attachment_count = 0 WHERE attachment_count <> 0;
            RETURN NULL;
        END
        $$
        """
    )
    _triggers("attachments")


def downgrade() -> None:
    for table, column in (("attachments", "attachment_count"), ("comments", "comment_count")):
        for trigger in ("count_truncate", "count_move", "count"):
            op.execute(f"DROP TRIGGER {table}_{trigger} ON {table}")
        op.execute(f"DROP FUNCTION count_{table}_truncated()")
        op.execute(f"DROP FUNCTION count_{table}()")
        op.drop_column("issues", column)
