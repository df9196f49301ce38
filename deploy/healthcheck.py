"""Container health checks for the tracker image (api, worker), using only what the image has.

    python healthcheck.py http URL   healthy when URL answers 2xx (e.g. the API's /readyz)
    python healthcheck.py worker     healthy when the database answers and some worker holds the
                                     scheduler's leader lock (this one, or another replica while
                                     this one waits as a standby)

Exit status 0 is healthy, 1 is not; the reason goes to stdout, where `docker inspect` shows it.
"""

from __future__ import annotations

import sys
import urllib.request


def check_http(url: str) -> str:
    with urllib.request.urlopen(url, timeout=4) as resp:  # noqa: S310 - loopback URL from compose
        return f"{url}: {resp.status}"


def check_worker() -> str:
    import psycopg

    from tracker.config import get_settings
    from tracker.localdb import to_libpq
    from tracker.worker.main import LEADER_LOCK_KEY

    url = get_settings().database_url
    if not url:
        raise RuntimeError("DATABASE_URL is not set")
    # A bigint advisory lock shows in pg_locks as classid = high and objid = low 32 bits,
    # with objsubid 1.
    high, low = divmod(LEADER_LOCK_KEY, 1 << 32)
    with psycopg.connect(to_libpq(url), connect_timeout=4, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s AND objsubid = 1",
            (high, low),
        ).fetchone()
    if not row or row[0] == 0:
        raise RuntimeError("no worker holds the scheduler lock")
    return "database ok, a scheduler leader is running"


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 2 and argv[0] == "http":
            print(check_http(argv[1]))
        elif argv == ["worker"]:
            print(check_worker())
        else:
            print(__doc__)
            return 2
    except Exception as exc:
        print(f"unhealthy: {type(exc).__name__}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
