"""Servers the tests start as subprocesses (API, web), stopped the same way everywhere."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable


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
