"""The worker process: APScheduler with its job store in PostgreSQL, one active scheduler.

Any number of workers may run; the one holding a session-level advisory lock on a dedicated
connection schedules, the others poll for the lock. PostgreSQL releases the lock when the
leader's connection ends, including when its process is killed, so a standby takes over within
`worker_leader_poll_seconds`. The jobs live in `apscheduler_jobs` under stable ids, so a
restarted or new leader resumes the same schedule instead of adding jobs.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import UTC, datetime
from typing import Any

import psycopg
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from tracker.attachments.storage import open_store
from tracker.config import Settings
from tracker.localdb import to_libpq
from tracker.observability.logging import configure_logging, get_logger
from tracker.worker import runner
from tracker.worker.jobs import JOBS
from tracker.worker.metrics import LEADER, serve_metrics

log = get_logger("tracker.worker")
# Any fixed 64-bit key: the worker holding this session-level lock is the one that schedules.
LEADER_LOCK_KEY = 7_201_126_001
# The job store pickles this reference, not a function object: stable across deployments.
RUN_SCHEDULED = "tracker.worker.runner:run_scheduled"
HEARTBEAT_SECONDS = 5.0


def make_scheduler(settings: Settings) -> BackgroundScheduler:
    assert settings.database_url
    url = to_libpq(settings.database_url).replace("postgresql://", "postgresql+psycopg://", 1)
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=url, tablename="apscheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=UTC,
    )


def register_jobs(scheduler: BackgroundScheduler, settings: Settings) -> None:
    """Put every job in the store under its name; drop stored jobs that no longer exist.

    `replace_existing` makes a restart update a job rather than add a second one. A job whose
    interval did not change keeps its next run time, so frequent restarts cannot starve it; a
    new or re-timed job runs right away. The misfire grace is one interval: a run missed while
    no worker led still happens once (coalesced) when the next leader starts.
    """
    for stored in scheduler.get_jobs():
        if stored.id not in JOBS:
            scheduler.remove_job(stored.id)
            log.info("job_removed", job=stored.id)
    now = datetime.now(UTC)
    for name, job in JOBS.items():
        seconds = job.interval_seconds(settings)
        trigger = IntervalTrigger(seconds=seconds, timezone=UTC)
        stored = scheduler.get_job(name)
        next_run: datetime = now
        if (
            stored is not None
            and isinstance(stored.trigger, IntervalTrigger)
            and stored.trigger.interval == trigger.interval
            and stored.next_run_time is not None
        ):
            next_run = stored.next_run_time
        scheduler.add_job(
            RUN_SCHEDULED,
            trigger=trigger,
            args=[name],
            id=name,
            name=name,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, int(seconds)),
            next_run_time=next_run,
        )
        log.info("job_scheduled", job=name, interval_seconds=seconds, next_run=next_run.isoformat())


def _wait_for_leadership(
    conn: psycopg.Connection[Any], stop: threading.Event, poll_seconds: float
) -> bool:
    log.info("worker_standby")
    while not stop.is_set():
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK_KEY,)).fetchone()
        if row and row[0]:
            return True
        stop.wait(poll_seconds)
    return False


def _lead(conn: psycopg.Connection[Any], settings: Settings, stop: threading.Event) -> None:
    log.info("worker_leader")
    LEADER.set(1)
    scheduler = make_scheduler(settings)
    # Paused until the jobs are registered: nothing runs from a half-updated schedule.
    scheduler.start(paused=True)
    try:
        register_jobs(scheduler, settings)
        scheduler.resume()
        while not stop.wait(min(HEARTBEAT_SECONDS, settings.worker_leader_poll_seconds)):
            # Fails when the lock's session is gone; then we must stop scheduling at once.
            conn.execute("SELECT 1")
    finally:
        scheduler.shutdown(wait=True)
        LEADER.set(0)


def run_worker(settings: Settings) -> None:
    configure_logging(settings.log_level, json=settings.log_json)
    # Our own job_succeeded / job_failed lines say it better than APScheduler's per-run INFO.
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLogger().level))
    assert settings.database_url
    runner.configure(settings)
    # Opened once: the orphan sweep, handed STORAGE_DIR, finds this process's store by it.
    open_store(settings)
    serve_metrics(settings)
    # The leader lock belongs to one server session: never through a transaction pooler.
    conninfo = to_libpq(settings.session_database_url or settings.database_url)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    log.info("worker_started", pid=os.getpid(), jobs=sorted(JOBS))
    while not stop.is_set():
        try:
            with psycopg.connect(
                conninfo, autocommit=True, application_name=f"tracker-worker:{os.getpid()}"
            ) as conn:
                if _wait_for_leadership(conn, stop, settings.worker_leader_poll_seconds):
                    _lead(conn, settings, stop)
        except psycopg.Error as exc:
            # The database went away (restart, network): stand by again once it is back.
            log.warning("worker_lost_database", error=str(exc))
            stop.wait(settings.worker_leader_poll_seconds)
    log.info("worker_stopped")
