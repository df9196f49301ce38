"""Sending the e-mail the fan-out queued (an outbox: tracker/outbox.py), and retrying.

Each run claims due messages and commits the claim, sends them, then records each outcome. A
worker that dies after sending and before recording sends the message again once its lease
ends, with the same Message-ID (at least once, recognisably). A server that is down or busy
is tried again after 30 s, then 2 min, 10 min, 1 h and 6 h; an address it refuses for good is
given up on at once, with its answer kept.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.models import User
from tracker.config import Settings
from tracker.mail import Mail, MailError, send
from tracker.notifications.models import OutgoingMail
from tracker.outbox import Backoff, OutboxState, Outcome, claim, settle

BACKOFF = Backoff(
    (
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(hours=1),
        timedelta(hours=6),
    )
)
# Longer than one SMTP conversation may take (SMTP_TIMEOUT_SECONDS is at most 120).
LEASE = timedelta(minutes=5)
BATCH = 20
ERROR_MAX = 1000
TABLE = cast(Table, OutgoingMail.__table__)


async def send_due(session: AsyncSession, settings: Settings, now: datetime) -> dict[str, int]:
    """One run: claim (committed), send, record; how many were sent, retried and given up."""
    if not settings.mail_enabled:
        return {"sent": 0, "retry": 0, "failed": 0}
    claims = await claim(session, TABLE, now=now, limit=BATCH, lease=LEASE)
    await session.commit()
    if not claims:
        return {"sent": 0, "retry": 0, "failed": 0}
    rows = (
        await session.execute(
            select(OutgoingMail, User.email)
            .join(User, User.id == OutgoingMail.recipient_id)
            .where(OutgoingMail.id.in_([c.id for c in claims]))
        )
    ).all()
    found = {row[0].id: row for row in rows}
    outcomes: list[Outcome] = []
    given_up: list[int] = []
    errors: dict[int, str | None] = {}
    origin = settings.web_origin.rstrip("/")
    for c in claims:
        message, address = found[c.id]
        try:
            await send(
                settings,
                Mail(
                    to=address,
                    subject=message.subject,
                    text=message.body_text,
                    html=message.body_html,
                    message_id=message.message_id,
                    unsubscribe_url=f"{origin}/settings/notifications",
                ),
            )
        except MailError as exc:
            errors[c.id] = str(exc)[:ERROR_MAX]
            outcomes.append(Outcome(c, delivered=False))
            if not exc.transient:
                given_up.append(c.id)
        else:
            errors[c.id] = None
            outcomes.append(Outcome(c, delivered=True))
    counts = await settle(session, TABLE, outcomes, backoff=BACKOFF, now=now)
    for row_id, error in errors.items():
        await session.execute(
            update(OutgoingMail).where(OutgoingMail.id == row_id).values(last_error=error)
        )
    moved = 0
    if given_up:
        result = await session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id.in_(given_up), OutgoingMail.state == OutboxState.PENDING)
            .values(state=OutboxState.FAILED, next_attempt_at=None, finished_at=now)
            .returning(OutgoingMail.id)
        )
        moved = len(result.all())
    return {
        "sent": counts[OutboxState.DELIVERED],
        "retry": counts[OutboxState.PENDING] - moved,
        "failed": counts[OutboxState.FAILED] + moved,
    }
