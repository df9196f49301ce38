"""The daily e-mail: for each person who chose `digest` for some kinds, what they were told of
those kinds since their last digest, in one message."""

from __future__ import annotations

import html
from collections import defaultdict
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.config import Settings
from tracker.notifications.models import (
    Delivery,
    Notification,
    NotificationSetting,
    OutgoingMail,
)

LIST_MAX = 50


async def queue_digests(session: AsyncSession, settings: Settings) -> int:
    """Queue one digest per person with anything to tell; how many were queued."""
    if not settings.mail_enabled:
        return 0
    stmt = (
        select(
            Notification.id, Notification.recipient_id, Notification.issue_id, Notification.summary
        )
        .join(
            NotificationSetting,
            (NotificationSetting.user_id == Notification.recipient_id)
            & (NotificationSetting.kind == Notification.kind),
        )
        .where(NotificationSetting.delivery == Delivery.DIGEST, Notification.mailed_at.is_(None))
        .order_by(Notification.recipient_id, Notification.id)
        .with_for_update(of=Notification, skip_locked=True)
    )
    per_person: dict[int, list[tuple[int, int | None, str]]] = defaultdict(list)
    for row in (await session.execute(stmt)).all():
        per_person[row.recipient_id].append((row.id, row.issue_id, row.summary))
    origin = settings.web_origin.rstrip("/")
    host = urlsplit(origin).hostname or "localhost"
    for recipient_id, items in per_person.items():
        shown = items[-LIST_MAX:]
        more = len(items) - len(shown)
        lines = [f"- {summary} — {origin}/issues/{issue_id}" for _, issue_id, summary in shown]
        if more:
            lines.append(f"… and {more} more in your inbox: {origin}/inbox")
        listed = "".join(
            f'<li><a href="{html.escape(f"{origin}/issues/{issue_id}")}">'
            f"{html.escape(summary)}</a></li>"
            for _, issue_id, summary in shown
        )
        session.add(
            OutgoingMail(
                recipient_id=recipient_id,
                # Named after its first notification: unique, and the same on every retry.
                message_id=f"<digest-{items[0][0]}@{host}>",
                subject=f"Your tracker digest: {len(items)} update{'s' if len(items) != 1 else ''}",
                body_text="\n".join(lines)
                + f"\n\nChange what you get: {origin}/settings/notifications\n",
                next_attempt_at=func.now(),
                body_html=f"<ul>{listed}</ul>"
                + (f"<p>… and {more} more in your inbox.</p>" if more else ""),
            )
        )
        await session.execute(
            update(Notification)
            .where(Notification.id.in_([n for n, _, _ in items]))
            .values(mailed_at=func.now())
        )
    await session.flush()
    return len(per_person)
