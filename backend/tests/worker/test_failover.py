"""Real `tracker worker` processes: one leader, fail-over on SIGKILL, no duplicated jobs.

Jobs run every WORKER_TICK_SECONDS here (a settings hook for tests and demos: minutes are too
coarse to watch a fail-over), and standbys retry the lock every WORKER_LEADER_POLL_SECONDS.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tracker.localdb import free_port, to_libpq
from tracker.worker.jobs import JOBS

TRACKER = str(Path(sys.executable).parent / "tracker")
TAKEOVER_LIMIT = 5.0


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path
    metrics_port: int

    @property
    def pid(self) -> int:
        return self.proc.pid

    def events(self) -> list[dict[str, object]]:
        lines = self.log.read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def said(self, event: str) -> bool:
        return any(e.get("event") == event for e in self.events())

    def runs(self, job: str = "aggregate_stats") -> int:
        return sum(
            1 for e in self.events() if e.get("event") == "job_succeeded" and e["job"] == job
        )

    def metric(self, name: str) -> float | None:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics") as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    return float(line.rsplit(" ", 1)[1])
        return None


@pytest.fixture
def start_worker(database_url: str, tmp_path: Path, app: object) -> Iterator[Callable[[], Worker]]:
    started: list[Worker] = []

    def start() -> Worker:
        n = len(started)
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "STORAGE_DIR": str(tmp_path / "files"),
            "WORKER_TICK_SECONDS": "1",
            "WORKER_LEADER_POLL_SECONDS": "0.5",
            "WORKER_METRICS_PORT": str(port),
            "LOG_LEVEL": "INFO",
            "LOG_JSON": "true",
        }
        log = tmp_path / f"worker{n}.log"
        proc = subprocess.Popen(
            [TRACKER, "worker"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        worker = Worker(proc, log, port)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.terminate()
    for worker in started:
        try:
            worker.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            worker.proc.wait()


def _leader_pid(database_url: str) -> int | None:
    """The OS pid of the worker whose connection holds the advisory lock, from pg_locks."""
    with psycopg.connect(to_libpq(database_url), autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted"
        ).fetchone()
    if row is None:
        return None
    name = str(row[0])
    assert name.startswith("tracker-worker:"), name
    return int(name.split(":", 1)[1])


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started


def _stored_jobs(database_url: str) -> list[tuple[str, int]]:
    with psycopg.connect(to_libpq(database_url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT id, count(*) FROM apscheduler_jobs GROUP BY id ORDER BY id"
        ).fetchall()
    return [(str(r[0]), int(r[1])) for r in rows]


def test_one_leader_runs_jobs_and_a_standby_takes_over_when_it_is_killed(
    start_worker: Callable[[], Worker], database_url: str
) -> None:
    first, second = start_worker(), start_worker()
    workers = {first.pid: first, second.pid: second}

    _wait_for(lambda: _leader_pid(database_url) is not None, 120, "a leader")
    leader = workers[_leader_pid(database_url) or 0]
    standby = second if leader is first else first
    # Both processes are up (imports take seconds on a busy machine) before counting runs.
    _wait_for(lambda: standby.said("worker_standby"), 120, "the second worker to stand by")
    runs_before = leader.runs()
    _wait_for(lambda: leader.runs() >= runs_before + 2, 30, "the leader to run the job twice")

    assert standby.runs() == 0
    assert not standby.said("worker_leader")
    assert leader.metric("tracker_worker_leader") == 1
    assert standby.metric("tracker_worker_leader") == 0
    assert (
        leader.metric('tracker_worker_job_runs_total{job="aggregate_stats",outcome="success"}') or 0
    ) >= 2
    assert standby.metric("tracker_worker_job_runs_total") is None
    assert _stored_jobs(database_url) == sorted((name, 1) for name in JOBS)

    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait()
    took = _wait_for(
        lambda: _leader_pid(database_url) == standby.pid, TAKEOVER_LIMIT, "the standby to lead"
    )
    assert took < TAKEOVER_LIMIT
    _wait_for(lambda: standby.runs() >= 1, 10, "the new leader to run aggregate_stats")
    assert _stored_jobs(database_url) == sorted((name, 1) for name in JOBS)

    # A restart (a new process joining, then the leader stopping cleanly) reuses the same jobs.
    restarted = start_worker()
    _wait_for(
        lambda: any(e.get("event") == "worker_standby" for e in restarted.events()), 30, "standby"
    )
    standby.proc.send_signal(signal.SIGTERM)
    assert standby.proc.wait(timeout=15) == 0
    _wait_for(
        lambda: _leader_pid(database_url) == restarted.pid, TAKEOVER_LIMIT, "the restart to lead"
    )
    _wait_for(lambda: restarted.runs() >= 1, 10, "the restarted worker to run aggregate_stats")

    assert _stored_jobs(database_url) == sorted((name, 1) for name in JOBS)
    with psycopg.connect(to_libpq(database_url), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM daily_stats").fetchone() == (16,)
