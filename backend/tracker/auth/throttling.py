"""Throttling of guesses: failed sign-ins per account and address, and sign-ups per address
(docs/security.md says why each is keyed as it is)."""

from __future__ import annotations

import math

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tracker.auth import repository
from tracker.config import Settings
from tracker.errors import TooManyRequests


async def check_sign_in(session: AsyncSession, settings: Settings, *, email: str, ip: str) -> None:
    """Refuse a sign-in attempt while guessing is being throttled (docs/security.md).

    Failures are counted per account *and address*: guessing from one address blocks that
    address for that account, never the owner signing in from elsewhere. An address guessing at
    many accounts is blocked for all of them. Guesses at one account from many addresses are
    slowed, not locked: each attempt waits twice as long as the one before, at most a minute.
    """
    waits = [
        await repository.seconds_until_unthrottled(
            session,
            email=email,
            ip=ip,
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_window_seconds,
        ),
        await repository.seconds_until_unthrottled(
            session,
            ip=ip,
            max_failures=settings.login_max_failures_per_address,
            window_seconds=settings.login_window_seconds,
        ),
    ]
    failures, since_last = await repository.recent_failures(
        session, email=email, window_seconds=settings.login_window_seconds
    )
    excess = failures - settings.login_max_failures_per_account
    if excess >= 0 and since_last is not None:
        spacing = min(2.0**excess, ACCOUNT_DELAY_MAX_SECONDS)
        if since_last < spacing:
            waits.append(max(1, math.ceil(spacing - since_last)))
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise TooManyRequests(_try_again_in(wait), retry_after=wait, code="login_throttled")


# An account guessed at from many addresses: the longest an attempt (the owner's too) waits.
ACCOUNT_DELAY_MAX_SECONDS = 60.0


def _try_again_in(seconds: int) -> str:
    if seconds < 60:
        unit = "second" if seconds == 1 else "seconds"
        return f"Too many failed sign-in attempts. Try again in {seconds} {unit}."
    minutes = (seconds + 59) // 60
    return (
        f"Too many failed sign-in attempts. Try again in {minutes} minute"
        f"{'s' if minutes != 1 else ''}."
    )


async def record_failed_sign_in(
    sessions: async_sessionmaker[AsyncSession], *, email: str, ip: str
) -> None:
    # Its own transaction: the request's transaction rolls back with the error it returns,
    # and a failure that is not remembered cannot be throttled.
    async with sessions.begin() as own:
        repository.add_login_attempt(own, email=email, ip=ip)


async def count_sign_up(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    ip: str,
) -> None:
    """Refuse a sign-up past this address's allowance, or count this one against it."""
    wait = await repository.seconds_until_signup_allowed(
        session,
        ip=ip,
        max_signups=settings.signup_max_per_address,
        window_seconds=settings.signup_window_seconds,
    )
    if wait is not None:
        minutes = (wait + 59) // 60
        raise TooManyRequests(
            f"Too many sign-ups from this address. Try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''}.",
            retry_after=wait,
            code="signup_throttled",
        )
    # Its own transaction, like a failed sign-in: a refused sign-up rolls the request's back.
    async with sessions.begin() as own:
        repository.add_signup_attempt(own, ip=ip)
