"""Running one job: its own engine and transaction, metrics and a log line for every outcome."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from tracker.config import Settings
from tracker.db import make_engine, make_sessionmaker
from tracker.observability.logging import get_logger
from tracker.worker.jobs import JOBS
from tracker.worker.metrics import JOB_DURATION, JOB_FAILURES, JOB_LAST_SUCCESS, JOB_RUNS

log = get_logger("tracker.worker")
# The scheduler stores jobs by reference (pickled into apscheduler_jobs), never settings with
# their secrets: the worker hands them over here once at start.
_settings: Settings | None = None


class JobFailed(Exception):
    """A job raised; it has been logged and counted already."""


def configure(settings: Settings) -> None:
    global _settings
    _settings = settings


async def run_job(name: str, settings: Settings) -> dict[str, int]:
    """Run job `name` once in one transaction; JobFailed (logged and counted) if it raised."""
    job = JOBS[name]
    assert settings.database_url
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=1)
    started = time.perf_counter()
    try:
        async with make_sessionmaker(engine)() as session:
            result = await job.func(session, settings)
            await session.commit()
    except Exception as exc:
        elapsed = time.perf_counter() - started
        JOB_DURATION.labels(name).observe(elapsed)
        JOB_FAILURES.labels(name).inc()
        JOB_RUNS.labels(name, "failure").inc()
        log.error(
            "job_failed",
            job=name,
            duration_seconds=round(elapsed, 4),
            error=repr(exc),
            exc_info=exc,
        )
        raise JobFailed(f"{name} failed: {exc!r}") from exc
    finally:
        await engine.dispose()
    elapsed = time.perf_counter() - started
    JOB_DURATION.labels(name).observe(elapsed)
    JOB_RUNS.labels(name, "success").inc()
    JOB_LAST_SUCCESS.labels(name).set(time.time())
    fields: dict[str, Any] = dict(result)
    # A job that runs every few seconds would otherwise fill the log with runs that did nothing.
    quiet = job.quiet_when_idle and not any(result.values())
    (log.debug if quiet else log.info)(
        "job_succeeded", job=name, duration_seconds=round(elapsed, 4), **fields
    )
    return result


def run_scheduled(name: str) -> None:
    """The scheduler's entry point. A failure is logged and counted, and the next tick retries."""
    assert _settings is not None, "runner.configure() was not called"
    # Logged and counted already; raising would only make the scheduler log it twice.
    with contextlib.suppress(JobFailed):
        asyncio.run(run_job(name, _settings))
