"""Sending e-mail over SMTP: composing a message (plain text and HTML, a stable Message-ID,
List-Unsubscribe) and handing it to the configured server.

`smtplib` blocks, so a send runs in a thread and is bounded by SMTP_TIMEOUT_SECONDS. A failure
says whether trying again later may help (the server is down, busy or refused for now) or not
(the server refused the address for good): the worker retries only the first kind.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from tracker.config import Settings


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    # Stable for one message: a retry after a crash sends the same id, so it can be recognised.
    message_id: str | None = None
    unsubscribe_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class MailError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def compose(settings: Settings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    if mail.message_id:
        message["Message-ID"] = mail.message_id
    if mail.unsubscribe_url:
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def _deliver(settings: Settings, message: EmailMessage) -> str:
    if not settings.smtp_host:
        raise MailError("E-mail is off: SMTP_HOST is not set", transient=False)
    timeout = settings.smtp_timeout_seconds
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.smtp_security == "tls":
        smtp = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with smtp:
        smtp.ehlo()
        if settings.smtp_security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        # One step at a time, so the answer to the message itself can be shown.
        sender, recipient = parseaddr(str(message["From"]))[1], parseaddr(str(message["To"]))[1]
        code, answer = smtp.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, answer, sender)
        code, answer = smtp.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, answer)})
        # SMTP lines end in CRLF; smtplib converts a str but sends bytes as they are.
        code, answer = smtp.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
        if code != 250:
            raise smtplib.SMTPDataError(code, answer)
        return f"{code} {answer.decode(errors='replace')}"


async def send(settings: Settings, mail: Mail) -> str:
    """Hand one message to the SMTP server; the server's last answer on success."""
    message = compose(settings, mail)
    try:
        return await asyncio.to_thread(_deliver, settings, message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise MailError(
            f"The server refused the address: {exc.recipients}",
            transient=all(400 <= c < 500 for c in codes),
        ) from exc
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        raise MailError(f"{exc.smtp_code} {text}", transient=exc.smtp_code < 500) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"The mail server could not be reached: {exc}", transient=True) from exc
