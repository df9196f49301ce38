"""The worker process: APScheduler with its job store in PostgreSQL, one active scheduler."""

from __future__ import annotations

import signal
import threading

import psycopg
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from tracker.config import Settings
from tracker.localdb import to_libpq
from tracker.observability.logging import configure_logging, get_logger

log = get_logger("tracker.worker")
# Any fixed 64-bit key: the worker holding this session-level lock is the one that schedules.
LEADER_LOCK_KEY = 7_201_126_001


def run_worker(settings: Settings) -> None:
    configure_logging(settings.log_level, json=settings.log_json)
    assert settings.database_url
    conninfo = to_libpq(settings.database_url)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    with psycopg.connect(conninfo, autocommit=True) as lock_conn:
        log.info("worker_waiting_for_leadership")
        while not stop.is_set():
            got = lock_conn.execute(
                "SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK_KEY,)
            ).fetchone()
            if got and got[0]:
                break
            stop.wait(2.0)
        if stop.is_set():
            return
        log.info("worker_leader")
        sync_url = conninfo.replace("postgresql://", "postgresql+psycopg://", 1)
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=sync_url)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone="UTC",
        )
        scheduler.start()
        try:
            while not stop.wait(5.0):
                lock_conn.execute("SELECT 1")  # keeps the lock's session alive and checked
        finally:
            scheduler.shutdown(wait=True)
            log.info("worker_stopped")
