"""Event ids are drawn at commit, under the order lock, by a deferred trigger.

An issue_events row is inserted with a provisional id (the column's default). When its
transaction commits, a deferred constraint trigger takes the event-order advisory lock, gives
the row its final id from the same sequence and queues its NOTIFY. The lock is held only while
PostgreSQL commits (no round trip to the application inside it), and ids still commit in id
order (docs/realtime.md, "Decisions").

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The lock key and channel are tracker.activity.service's EVENT_ORDER_LOCK and
    # NOTIFY_CHANNEL (a test checks they agree).
    op.execute(
        """
        CREATE FUNCTION issue_events_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            final_id integer;
        BEGIN
            PERFORM pg_advisory_xact_lock(7354201106);
            UPDATE issue_events SET id = nextval('issue_events_id_seq')
             WHERE id = NEW.id
            RETURNING id INTO final_id;
            PERFORM pg_notify('tracker_events', json_build_object(
                'id', final_id, 'issue_id', NEW.issue_ref,
                'reporter_id', NEW.reporter_id, 'kind', NEW.kind)::text);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE CONSTRAINT TRIGGER issue_events_at_commit
        AFTER INSERT ON issue_events
        DEFERRABLE INITIALLY DEFERRED
        FOR EACH ROW EXECUTE FUNCTION issue_events_at_commit()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER issue_events_at_commit ON issue_events")
    op.execute("DROP FUNCTION issue_events_at_commit()")
