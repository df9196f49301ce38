"""The export's rate and the API's memory while it streams (`bench/run.py` calls `measure`).

Downloads `GET /api/issues/export` (every issue, CSV) once as a MAINTAINER, reading the body as
it arrives, while a thread samples the API process's resident memory every 20 ms. Prints and
returns issues/s, MB/s, and the process's resident memory before and at its peak: an export
that buffered the table would grow with its size; a streamed one stays flat.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path
from typing import Any


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(port: int, token: str, pid: int, fmt: str = "csv") -> dict[str, Any]:
    before = rss_mb(pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/issues/export?format={fmt}",
        headers={"Authorization": f"Bearer {token}"},
    )
    started = time.perf_counter()
    size = lines = 0
    with urllib.request.urlopen(request, timeout=600) as response:
        while chunk := response.read(1 << 16):
            size += len(chunk)
            lines += chunk.count(b"\r\n") if fmt == "csv" else chunk.count(b",\n")
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    # CSV: one CRLF per row plus the header, and descriptions hold none (they keep \n).
    issues = lines - 1 if fmt == "csv" else lines + 1
    result = {
        "format": fmt,
        "issues": issues,
        "seconds": round(elapsed, 2),
        "issues_per_s": round(issues / elapsed),
        "mb": round(size / 2**20, 1),
        "mb_per_s": round(size / 2**20 / elapsed, 1),
        "api_rss_before_mb": round(before, 1),
        "api_rss_peak_mb": round(peak, 1),
    }
    print(
        f"  export ({fmt}): {issues:,} issues, {result['mb']} MB in {elapsed:.1f} s — "
        f"{result['issues_per_s']:,} issues/s; API memory {before:.0f} MB before, "
        f"{peak:.0f} MB at its peak",
        flush=True,
    )
    return result
