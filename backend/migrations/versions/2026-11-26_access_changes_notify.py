"""Changes to who may do what are announced, so API processes may remember access checks.

Every change to a user row (role, active flag, anything the access check returns), a user's
deletion, and a sign-in session's revocation NOTIFY `tracker_access` with the user's id when
the transaction commits; emptying the table announces `*`. Each API process drops what it
remembered for that user (docs/adr/0013-remembered-access-checks.md).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 14:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The channel is tracker.auth.access_cache's ACCESS_CHANNEL (a test checks they agree).
    op.execute(
        """
        CREATE FUNCTION announce_access_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_LEVEL = 'STATEMENT' THEN
                PERFORM pg_notify('tracker_access', '*');
            ELSIF TG_TABLE_NAME = 'users' THEN
                PERFORM pg_notify('tracker_access', OLD.id::text);
            ELSE
                PERFORM pg_notify('tracker_access', OLD.user_id::text);
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_access_change
        AFTER UPDATE OR DELETE ON users
        FOR EACH ROW EXECUTE FUNCTION announce_access_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_access_truncate
        AFTER TRUNCATE ON users
        FOR EACH STATEMENT EXECUTE FUNCTION announce_access_change()
        """
    )
    op.execute(
        """
        CREATE TRIGGER refresh_tokens_access_change
        AFTER UPDATE OF revoked_at ON refresh_tokens
        FOR EACH ROW WHEN (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at)
        EXECUTE FUNCTION announce_access_change()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER refresh_tokens_access_change ON refresh_tokens")
    op.execute("DROP TRIGGER users_access_truncate ON users")
    op.execute("DROP TRIGGER users_access_change ON users")
    op.execute("DROP FUNCTION announce_access_change()")
