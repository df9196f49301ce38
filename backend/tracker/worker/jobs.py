"""The worker's jobs, by stable name: the scheduler's job ids and `tracker jobs run <name>`.

A job is `async def job(session, settings) -> dict[str, int]`: it works inside one
transaction (the runner commits) and returns numbers worth logging.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.auth.sessions import purge_expired
from tracker.config import Settings
from tracker.stats.service import aggregate_daily_stats
from tracker.worker.sweep import sweep_orphans

JobFunc = Callable[[AsyncSession, Settings], Awaitable[dict[str, int]]]


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    func: JobFunc
    interval_minutes: Callable[[Settings], int]

    def interval_seconds(self, settings: Settings) -> float:
        if settings.worker_tick_seconds is not None:
            return settings.worker_tick_seconds
        return float(self.interval_minutes(settings) * 60)


async def aggregate_stats(session: AsyncSession, settings: Settings) -> dict[str, int]:
    return {"rows_changed": await aggregate_daily_stats(session)}


async def sweep_orphan_files(session: AsyncSession, settings: Settings) -> dict[str, int]:
    return await sweep_orphans(session, settings.storage_dir)


async def cleanup_tokens(session: AsyncSession, settings: Settings) -> dict[str, int]:
    return await purge_expired(session, settings)


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
    )
}
