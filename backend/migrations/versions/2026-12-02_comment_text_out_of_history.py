"""The words of deleted comments leave the activity history.

`comment.deleted` events carried the comment's text, and `comment.updated` events keep the
text before and after an edit; both stayed readable after the comment was gone. From now on a
deletion records no text and removes it from that comment's edits (comments/service.py); this
migration does the same for what is already recorded.

Downgrade changes nothing: the removed text cannot, and must not, come back.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("UPDATE issue_events SET data = data - 'body' WHERE kind = 'comment.deleted'")
    op.execute(
        """
        UPDATE issue_events AS e SET data = e.data - 'changes'
        WHERE e.kind = 'comment.updated'
          AND NOT EXISTS (
              SELECT 1 FROM comments AS c WHERE c.id = (e.data ->> 'comment_id')::bigint
          )
        """
    )


def downgrade() -> None:
    pass
