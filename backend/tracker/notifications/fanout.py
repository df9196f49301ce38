"""Who is told about what: the worker reads each committed change once, in order, and writes
the notifications (and e-mails) it means for people (docs/notifications.md).

- Assigned: the new assignee. Mentioned: each `@handle` new in a description or comment.
  Commented, status changed, attachment added: everyone watching the issue.
- Never the person who made the change, never someone inactive or who may not see the issue
  (a REPORTER sees only their own issues), and one notification per person per change.
- Several changes by one person to one issue within a minute are one notification.
- The commenter and the people mentioned or assigned start watching the issue.

The cursor (the last event handled) moves in the same transaction as the notifications it
led to, so a worker that stops half-way hands nothing twice and drops nothing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.config import Settings
from tracker.issues import watching
from tracker.markdown import mentioned_handles
from tracker.notifications import repository
from tracker.notifications.models import Delivery, Kind, Notification, OutgoingMail
from tracker.notifications.service import announce, deliveries_of
from tracker.roles import is_staff

CONSUMER = "notifications"
BATCH = 200
FOLD_WINDOW = timedelta(minutes=1)
SUMMARY_MAX = 300
# A notification folded into another keeps the kind that matters most.
PRIORITY = [
    Kind.ATTACHMENT_ADDED,
    Kind.STATUS_CHANGED,
    Kind.COMMENTED,
    Kind.ASSIGNED,
    Kind.MENTIONED,
]


@dataclass
class Plan:
    """What one event means: the kind each recipient gets (before the visibility check)."""

    kinds: dict[int, Kind] = field(default_factory=dict)
    start_watching: set[int] = field(default_factory=set)

    def tell(self, user_ids: set[int], kind: Kind) -> None:
        for uid in user_ids:
            current = self.kinds.get(uid)
            if current is None or PRIORITY.index(kind) > PRIORITY.index(current):
                self.kinds[uid] = kind


def _label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def summary_of(event: Any, kind: Kind) -> str:
    actor = event.actor_name or "Someone"
    issue = f"#{event.issue_id} {event.title}"
    data = event.data or {}
    if kind == Kind.ASSIGNED:
        text = f"{actor} assigned {issue} to you"
    elif kind == Kind.MENTIONED:
        text = f"{actor} mentioned you on {issue}"
    elif kind == Kind.COMMENTED:
        text = f"{actor} commented on {issue}"
    elif kind == Kind.STATUS_CHANGED:
        old, new = data.get("changes", {}).get("status", ["", ""])
        text = f"{actor} moved {issue} from {_label(old)} to {_label(new)}"
    else:
        name = (data.get("attachment") or {}).get("filename") or "a file"
        text = f"{actor} attached {name} to {issue}"
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


async def _mentioned(session: AsyncSession, text: str, before: str = "") -> set[int]:
    return await repository.ids_with_handles(
        session, mentioned_handles(text) - mentioned_handles(before)
    )


async def plan_for(session: AsyncSession, event: Any) -> Plan:
    plan = Plan()
    data: dict[str, Any] = event.data or {}
    kind: str = event.kind
    changes: dict[str, Any] = data.get("changes", {})
    watchers: set[int] | None = None

    async def watchers_now() -> set[int]:
        nonlocal watchers
        if watchers is None:
            watchers = await watching.watchers(session, event.issue_id)
        return watchers

    if kind == "issue.created":
        plan.tell(await _mentioned(session, event.description or ""), Kind.MENTIONED)
    elif kind == "issue.updated":
        if "description" in changes:
            old, new = changes["description"]
            plan.tell(await _mentioned(session, new or "", old or ""), Kind.MENTIONED)
        if "status" in changes:
            plan.tell(await watchers_now(), Kind.STATUS_CHANGED)
        new_assignee = (changes.get("assignee") or [None, None])[1]
        if new_assignee:
            plan.tell({int(new_assignee["id"])}, Kind.ASSIGNED)
    elif kind == "comment.created":
        body = await repository.comment_body(session, int(data.get("comment_id", 0)))
        if body is not None:
            plan.tell(await watchers_now(), Kind.COMMENTED)
            plan.tell(await _mentioned(session, body), Kind.MENTIONED)
            if event.actor_id is not None:
                plan.start_watching.add(event.actor_id)
    elif kind == "comment.updated":
        old, new = changes.get("body", ["", ""])
        plan.tell(await _mentioned(session, new or "", old or ""), Kind.MENTIONED)
    elif kind == "attachment.added":
        plan.tell(await watchers_now(), Kind.ATTACHMENT_ADDED)
    plan.start_watching |= {
        uid for uid, k in plan.kinds.items() if k in (Kind.MENTIONED, Kind.ASSIGNED)
    }
    return plan


def _may_see(person: Any, reporter_id: int) -> bool:
    return bool(person.is_active) and (is_staff(person) or person.id == reporter_id)


async def handle(session: AsyncSession, settings: Settings, event: Any) -> int:
    """Write what one event means; how many people were told."""
    plan = await plan_for(session, event)
    everyone = await repository.people(session, set(plan.kinds) | plan.start_watching)
    visible = {uid for uid, person in everyone.items() if _may_see(person, event.reporter_id)}
    await watching.watch_automatically(session, event.issue_id, plan.start_watching & visible)
    told = 0
    for uid, kind in plan.kinds.items():
        if uid == event.actor_id or uid not in visible:
            continue
        await _notify(session, settings, event, everyone[uid], kind)
        told += 1
    return told


async def _notify(
    session: AsyncSession, settings: Settings, event: Any, person: Any, kind: Kind
) -> None:
    summary = summary_of(event, kind)
    folded = None
    if event.actor_id is not None:
        folded = await repository.recent_unread(
            session, person.id, event.issue_id, event.actor_id, event.created_at - FOLD_WINDOW
        )
    if folded is not None:
        if PRIORITY.index(kind) >= PRIORITY.index(folded.kind):
            folded.kind, folded.summary = kind, summary
        folded.changes += 1
        folded.event_id = event.id
        folded.updated_at = event.created_at
        await session.flush()
        await announce(session, person.id, folded.id)
        return
    row = Notification(
        recipient_id=person.id,
        issue_id=event.issue_id,
        actor_id=event.actor_id,
        kind=kind,
        summary=summary,
        event_id=event.id,
        created_at=event.created_at,
        updated_at=event.created_at,
    )
    repository.add_notification(session, row)
    await session.flush()
    await announce(session, person.id, row.id)
    if settings.mail_enabled and (await deliveries_of(session, person.id))[kind] == Delivery.EMAIL:
        repository.add_mail(session, _mail_for(settings, row, person, event))
        row.mailed_at = event.created_at
        await session.flush()


def _mail_for(settings: Settings, row: Notification, person: Any, event: Any) -> OutgoingMail:
    origin = settings.web_origin.rstrip("/")
    link = f"{origin}/issues/{event.issue_id}"
    prefs = f"{origin}/settings/notifications"
    host = urlsplit(origin).hostname or "localhost"
    text = (
        f"{row.summary}\n\n{link}\n\n"
        f"You get this because you chose e-mail for these notifications: {prefs}\n"
    )
    body_html = (
        f"<p>{html.escape(row.summary)}</p>"
        f'<p><a href="{html.escape(link)}">Open #{event.issue_id}</a></p>'
        f'<p style="color:#666;font-size:12px">You get this because you chose e-mail for '
        f'these notifications. <a href="{html.escape(prefs)}">Change that</a>.</p>'
    )
    return OutgoingMail(
        recipient_id=person.id,
        message_id=f"<notification-{row.id}@{host}>",
        subject=row.summary,
        body_text=text,
        body_html=body_html,
        next_attempt_at=event.created_at,
    )


async def run(session: AsyncSession, settings: Settings, *, batch: int = BATCH) -> dict[str, int]:
    """Handle the events committed since the last run (at most `batch`)."""
    after = await repository.cursor_of(session, CONSUMER)
    events = await repository.events_after(session, after, batch)
    told = 0
    for event in events:
        told += await handle(session, settings, event)
    if events:
        await repository.move_cursor(session, CONSUMER, events[-1].id)
    return {"events": len(events), "notified": told}
