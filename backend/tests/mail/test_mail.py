"""Outgoing e-mail against a real SMTP server: what a message carries, what a refusal means,
and `tracker mail test`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.smtp import SmtpServer, smtp_server
from tracker.config import Settings
from tracker.localdb import free_port
from tracker.mail import Mail, MailError, send


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


def _settings(settings: Settings, server: SmtpServer | None, **extra: object) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": server.host if server else "127.0.0.1",
            "smtp_port": server.port if server else free_port(),
            "smtp_security": "none",
            "web_origin": "https://tracker.example.com",
            **extra,
        }
    )


async def test_a_message_carries_text_html_its_id_and_an_unsubscribe_link(
    settings: Settings, smtp: SmtpServer
) -> None:
    answer = await send(
        _settings(settings, smtp),
        Mail(
            to="Rita <rita@example.com>",
            subject="Mia assigned #12 to you",
            # Longer than one SMTP line: the message must go out in CRLF-ended lines.
            text="Mia Maintainer assigned #12 Checkout fails to you.\n" + "Details.\n" * 300,
            html="<p>Mia Maintainer assigned <a href='x'>#12</a> to you.</p>",
            message_id="<notification-41@tracker.example.com>",
            unsubscribe_url="https://tracker.example.com/settings/notifications",
        ),
    )
    assert answer.startswith("250")
    [message] = smtp.inbox.to("rita@example.com")
    assert message["Subject"] == "Mia assigned #12 to you"
    assert message["From"] == "Issues & Insights Tracker <no-reply@tracker.example.com>"
    assert message["Message-ID"] == "<notification-41@tracker.example.com>"
    assert message["List-Unsubscribe"] == "<https://tracker.example.com/settings/notifications>"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and "assigned #12 Checkout fails" in text.get_content()
    assert html is not None and "<a href='x'>#12</a>" in html.get_content()


async def test_a_busy_server_is_worth_retrying_and_a_missing_one_too(
    settings: Settings, smtp: SmtpServer
) -> None:
    smtp.inbox.refuse_next = 1
    with pytest.raises(MailError) as busy:
        await send(_settings(settings, smtp), Mail(to="a@example.com", subject="s", text="t"))
    assert busy.value.transient
    assert "451" in str(busy.value)

    with pytest.raises(MailError) as down:
        await send(_settings(settings, None), Mail(to="a@example.com", subject="s", text="t"))
    assert down.value.transient
    assert "could not be reached" in str(down.value)

    await send(_settings(settings, smtp), Mail(to="a@example.com", subject="s", text="t"))
    assert len(smtp.inbox.to("a@example.com")) == 1


async def test_without_smtp_host_mail_is_off(settings: Settings) -> None:
    off = settings.model_copy(update={"smtp_host": None})
    assert not off.mail_enabled
    with pytest.raises(MailError) as refused:
        await send(off, Mail(to="a@example.com", subject="s", text="t"))
    assert not refused.value.transient


def _tracker(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "MAIL_"))}
    return subprocess.run(
        [str(Path(sys.executable).parent / "tracker"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={**clean, "SECRET_KEY_FILE": str(tmp_path / "key"), **env},
    )


def test_mail_test_prints_the_servers_answer(tmp_path: Path, smtp: SmtpServer) -> None:
    result = _tracker(
        tmp_path,
        "mail",
        "test",
        "--to",
        "ops@example.com",
        SMTP_HOST=smtp.host,
        SMTP_PORT=str(smtp.port),
        SMTP_SECURITY="none",
    )
    assert result.returncode == 0, result.stderr
    assert f"Accepted by {smtp.host}:{smtp.port}: 250" in result.stdout
    [message] = smtp.inbox.to("ops@example.com")
    assert message["Subject"] == "Test message from the Issues & Insights Tracker"


def test_mail_test_says_when_mail_is_off(tmp_path: Path) -> None:
    result = _tracker(tmp_path, "mail", "test", "--to", "ops@example.com")
    assert result.returncode == 1
    assert "E-mail is off" in result.stderr
