"""Servers the tests start as subprocesses (API, web), started and stopped the same way everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tracker.config import Settings
from tracker.localdb import free_port

TRACKER = str(Path(sys.executable).parent / "tracker")


def stop(procs: Iterable[subprocess.Popen[bytes]]) -> None:
    """Ask every process to end, then wait up to 10 s each and kill what is still running."""
    procs = list(procs)
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120  # a cold start on a busy machine can take a while
    while time.monotonic() < deadline:
        assert proc.poll() is None, "tracker serve exited"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("tracker serve did not start")


@contextmanager
def api_processes(
    settings: Settings, count: int = 1
) -> Iterator[list[tuple[int, subprocess.Popen[bytes]]]]:
    """`count` API processes (`tracker serve`) on the tests' database: (port, process) each."""
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url or "",
        "SECRET_KEY": settings.secret_key,
        "STORAGE_DIR": str(settings.storage_dir),
        "LOG_LEVEL": "WARNING",
    }
    ports = [free_port() for _ in range(count)]
    procs = [subprocess.Popen([TRACKER, "serve", "--port", str(port)], env=env) for port in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            wait_ready(port, proc)
        yield list(zip(ports, procs, strict=True))
    finally:
        stop(procs)
