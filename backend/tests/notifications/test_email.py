"""Notifications by e-mail against a real SMTP server: sent once, retried while the server is
down, sent after a worker restart, and only as each person chose."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import UserFactory
from tests.notifications.test_fanout import Auth, Team
from tests.smtp import SmtpServer, smtp_server
from tracker.config import Settings
from tracker.notifications import digest, mailer
from tracker.notifications.models import OutgoingMail
from tracker.outbox import OutboxState
from tracker.roles import Role


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_settings(settings: Settings, smtp: SmtpServer) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": smtp.host,
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "web_origin": "https://tracker.example.com",
        }
    )


async def _now(db: AsyncSession) -> datetime:
    return (await db.execute(select(func.now()))).scalar_one()


async def _send(db: AsyncSession, settings: Settings, now: datetime) -> dict[str, int]:
    result = await mailer.send_due(db, settings, now)
    await db.commit()
    return result


async def test_an_assignment_is_mailed_once_with_a_link_and_a_stable_id(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    mail_settings: Settings,
    smtp: SmtpServer,
    make_user: UserFactory,
) -> None:
    t = Team(client, auth, db, mail_settings)
    rita = await make_user(email="rita@example.com")
    mia = await make_user(Role.MAINTAINER, full_name="Mia Maintainer")
    max_ = await make_user(Role.MAINTAINER, email="max@example.com")
    issue = await t.file(rita, "Checkout fails")
    await t.change(mia, issue, assignee_id=max_.id)
    await t.comment(mia, issue, "Have a look")  # commented: in the app only, by default
    await t.fan_out()

    now = await _now(db)
    assert (await _send(db, mail_settings, now))["sent"] == 1
    assert (await _send(db, mail_settings, now))["sent"] == 0
    [message] = smtp.inbox.to("max@example.com")
    assert message["Subject"] == f"Mia Maintainer assigned #{issue} Checkout fails to you"
    assert message["Message-ID"].startswith("<notification-")
    assert message["Message-ID"].endswith("@tracker.example.com>")
    assert message["List-Unsubscribe"] == "<https://tracker.example.com/settings/notifications>"
    text = message.get_body(("plain",))
    assert text is not None and f"https://tracker.example.com/issues/{issue}" in text.get_content()
    assert smtp.inbox.to("rita@example.com") == []  # Rita's comment notice stays in the app
    assert smtp.inbox.to("mia") == []


async def test_a_server_down_twice_then_up_delivers_the_message_once(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    mail_settings: Settings,
    smtp: SmtpServer,
    make_user: UserFactory,
) -> None:
    t = Team(client, auth, db, mail_settings)
    rita = await make_user(email="rita@example.com")
    mia = await make_user(Role.MAINTAINER)
    issue = await t.file(rita, "Export is empty")
    await t.comment(mia, issue, "@rita which browser?")
    await t.fan_out()

    smtp.inbox.refuse_next = 2
    now = await _now(db)
    assert (await _send(db, mail_settings, now))["retry"] == 1
    # Not due again until its backoff has passed: the first retry comes within a minute.
    assert (await _send(db, mail_settings, now + timedelta(seconds=10))) == {
        "sent": 0,
        "retry": 0,
        "failed": 0,
    }
    assert (await _send(db, mail_settings, now + timedelta(seconds=31)))["retry"] == 1
    later = now + timedelta(seconds=31) + timedelta(minutes=2, seconds=1)
    assert (await _send(db, mail_settings, later))["sent"] == 1

    assert smtp.inbox.refused == 2
    assert len(smtp.inbox.to("rita@example.com")) == 1
    row = (await db.execute(select(OutgoingMail))).scalar_one()
    assert (row.state, row.tries, row.last_error) == (OutboxState.DELIVERED, 3, None)


async def test_mail_queued_before_a_worker_stops_is_sent_after_it_restarts(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    mail_settings: Settings,
    smtp: SmtpServer,
    make_user: UserFactory,
) -> None:
    t = Team(client, auth, db, mail_settings)
    rita = await make_user(email="rita@example.com")
    mia = await make_user(Role.MAINTAINER)
    issue = await t.file(rita, "Totals are wrong")
    await t.comment(mia, issue, "@rita thanks")
    await t.fan_out()  # the notification and its e-mail are committed; nothing is sent yet

    # The worker stops after claiming and before sending: the claim is committed, the
    # outcome never recorded. No later run takes the message while the claim holds...
    now = await _now(db)
    claims = await mailer.claim(db, mailer.TABLE, now=now, limit=10, lease=mailer.LEASE)
    await db.commit()
    assert len(claims) == 1
    assert (await _send(db, mail_settings, now + timedelta(seconds=1)))["sent"] == 0
    # ...and the first run after it has run out sends it, once.
    assert (await _send(db, mail_settings, now + mailer.LEASE + timedelta(seconds=1)))["sent"] == 1
    assert len(smtp.inbox.to("rita@example.com")) == 1


async def test_each_person_chooses_app_email_or_digest(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    mail_settings: Settings,
    smtp: SmtpServer,
    make_user: UserFactory,
) -> None:
    t = Team(client, auth, db, mail_settings)
    rita = await make_user(email="rita@example.com")
    mia = await make_user(Role.MAINTAINER)
    max_ = await make_user(Role.MAINTAINER)
    defaults = (await client.get("/api/users/me/notification-settings", headers=auth(rita))).json()
    assert {s["kind"]: s["delivery"] for s in defaults["settings"]}["mentioned"] == "email"
    chosen = await client.put(
        "/api/users/me/notification-settings",
        json={
            "settings": [
                {"kind": "mentioned", "delivery": "app"},
                {"kind": "commented", "delivery": "digest"},
            ]
        },
        headers=auth(rita),
    )
    assert chosen.status_code == 200, chosen.text
    got = {s["kind"]: s["delivery"] for s in chosen.json()["settings"]}
    assert (got["mentioned"], got["commented"], got["assigned"]) == ("app", "digest", "email")
    bad = await client.put(
        "/api/users/me/notification-settings",
        json={"settings": [{"kind": "mentioned", "delivery": "pigeon"}]},
        headers=auth(rita),
    )
    assert bad.status_code == 422

    first = await t.file(rita, "Avatar upload fails")
    second = await t.file(rita, "Dark mode contrast")
    await t.comment(mia, first, "@rita seen it")  # mentioned: app only now
    await t.comment(max_, second, "Reproduced")  # commented: in the digest
    await t.comment(mia, second, "Fixed")  # commented: in the digest
    await t.fan_out()
    now = await _now(db)
    assert (await _send(db, mail_settings, now))["sent"] == 0

    assert await digest.queue_digests(db, mail_settings) == 1
    await db.commit()
    assert await digest.queue_digests(db, mail_settings) == 0  # nothing new since
    await db.commit()
    assert (await _send(db, mail_settings, await _now(db)))["sent"] == 1
    [message] = smtp.inbox.to("rita@example.com")
    assert message["Subject"] == "Your tracker digest: 2 updates"
    text = message.get_body(("plain",))
    assert text is not None
    assert f"#{second} Dark mode contrast" in text.get_content()


async def test_without_smtp_nothing_is_queued_and_the_settings_say_so(
    client: httpx.AsyncClient,
    auth: Auth,
    db: AsyncSession,
    settings: Settings,
    make_user: UserFactory,
) -> None:
    t = Team(client, auth, db, settings)
    rita = await make_user(email="rita@example.com")
    mia = await make_user(Role.MAINTAINER)
    issue = await t.file(rita, "Export is empty")
    await t.comment(mia, issue, "@rita hi")
    await t.fan_out()
    assert (await t.inbox(rita))["unread"] == 1
    assert await db.scalar(select(func.count()).select_from(OutgoingMail)) == 0
    shown = (await client.get("/api/users/me/notification-settings", headers=auth(rita))).json()
    assert shown["email_enabled"] is False
