"""The worker's jobs, by stable name: the scheduler's job ids and `tracker jobs run <name>`.

A job is `async def job(session, settings) -> dict[str, int]`: it works inside one
transaction (the runner commits) and returns numbers worth logging. An outbox job commits its
claims itself before it sends anything (tracker/outbox.py), then settles them in the runner's
transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.sessions import purge_expired
from tracker.config import Settings
from tracker.imports.service import run_next_import
from tracker.notifications import digest, fanout, mailer
from tracker.stats.service import aggregate_daily_stats
from tracker.webhooks import delivery as webhook_delivery
from tracker.worker.sweep import sweep_orphans

JobFunc = Callable[[AsyncSession, Settings], Awaitable[dict[str, int]]]


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    func: JobFunc
    interval_minutes: Callable[[Settings], int] | None = None
    # For a job that must run more often than once a minute (webhook deliveries).
    every_seconds: Callable[[Settings], float] | None = None
    # Log a run that changed nothing at debug level only.
    quiet_when_idle: bool = False

    def interval_seconds(self, settings: Settings) -> float:
        if settings.worker_tick_seconds is not None:
            return settings.worker_tick_seconds
        if self.every_seconds is not None:
            return float(self.every_seconds(settings))
        assert self.interval_minutes is not None, f"{self.name} has no interval"
        return float(self.interval_minutes(settings) * 60)


async def aggregate_stats(session: AsyncSession, settings: Settings) -> dict[str, int]:
    return {"rows_changed": await aggregate_daily_stats(session)}


async def sweep_orphan_files(session: AsyncSession, settings: Settings) -> dict[str, int]:
    return await sweep_orphans(session, settings.storage_dir)


async def cleanup_tokens(session: AsyncSession, settings: Settings) -> dict[str, int]:
    return await purge_expired(session, settings)


async def deliver_webhooks(session: AsyncSession, settings: Settings) -> dict[str, int]:
    return await webhook_delivery.run(session, settings)


async def notify(session: AsyncSession, settings: Settings) -> dict[str, int]:
    return await fanout.run(session, settings)


async def send_mail(session: AsyncSession, settings: Settings) -> dict[str, int]:
    now = (await session.execute(select(func.now()))).scalar_one()
    return await mailer.send_due(session, settings, now)


async def run_imports(session: AsyncSession, settings: Settings) -> dict[str, int]:
    return await run_next_import(session)


async def send_digests(session: AsyncSession, settings: Settings) -> dict[str, int]:
    return {"digests": await digest.queue_digests(session, settings)}


JOBS: dict[str, Job] = {
    job.name: job
    for job in (
        Job(
            "aggregate_stats",
            "Upsert today's (UTC) issue counts by status and severity into daily_stats",
            aggregate_stats,
            lambda s: s.stats_interval_minutes,
        ),
        Job(
            "sweep_orphan_files",
            "Delete stored files no attachment owns, abandoned uploads (older than an hour) "
            "and empty folders",
            sweep_orphan_files,
            lambda s: s.orphan_sweep_interval_minutes,
        ),
        Job(
            "cleanup_tokens",
            "Delete expired authorization codes, sign-in states, refresh tokens, login attempts",
            cleanup_tokens,
            lambda s: s.token_cleanup_interval_minutes,
        ),
        Job(
            "deliver_webhooks",
            "Turn new events into webhook deliveries and send those that are due, with retries",
            deliver_webhooks,
            every_seconds=lambda s: s.webhook_interval_seconds,
            quiet_when_idle=True,
        ),
        Job(
            "notify",
            "Turn new events into notifications for the people they concern (and queue e-mail)",
            notify,
            every_seconds=lambda s: s.notify_interval_seconds,
            quiet_when_idle=True,
        ),
        Job(
            "send_mail",
            "Send the queued notification e-mail that is due, with retries",
            send_mail,
            every_seconds=lambda s: s.mail_interval_seconds,
            quiet_when_idle=True,
        ),
        Job(
            "run_imports",
            "Run the oldest queued import of issues, whole, with its progress announced",
            run_imports,
            every_seconds=lambda s: s.import_interval_seconds,
            quiet_when_idle=True,
        ),
        Job(
            "send_digests",
            "Queue each person's daily digest of the notifications they chose to get that way",
            send_digests,
            lambda s: s.digest_interval_minutes,
            quiet_when_idle=True,
        ),
    )
}
