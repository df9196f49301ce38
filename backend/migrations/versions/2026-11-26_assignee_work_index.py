"""Someone's work, newest first, from one index; a tag's issues from the index alone.

`assignee_id = N` with a status filter, newest first ("assigned to me, in progress"), read every
issue ever assigned to N and sorted them (13 ms for a maintainer with 7,000 issues at 100,000).
With (assignee_id, created_at, id) PostgreSQL walks that person's issues newest first and stops
at the page. The new index also serves every lookup the single-column one did.

The tag filter looks up a tag's issues by `tag_id`; with (tag_id, issue_id) that is an
index-only scan instead of a visit to the table for every row (issue_tags' primary key is
(issue_id, tag_id), for the other direction).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_issues_assignee_id_created_at_id", "issues", ["assignee_id", "created_at", "id"]
    )
    op.drop_index("ix_issues_assignee_id", table_name="issues")
    op.create_index("ix_issue_tags_tag_id_issue_id", "issue_tags", ["tag_id", "issue_id"])
    op.drop_index("ix_issue_tags_tag_id", table_name="issue_tags")


def downgrade() -> None:
    op.create_index("ix_issue_tags_tag_id", "issue_tags", ["tag_id"])
    op.drop_index("ix_issue_tags_tag_id_issue_id", table_name="issue_tags")
    op.create_index("ix_issues_assignee_id", "issues", ["assignee_id"])
    op.drop_index("ix_issues_assignee_id_created_at_id", table_name="issues")
