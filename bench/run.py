"""`make bench`: load the API and a raw baseline with the same generator, at 10,000 and 100,000
issues, in one run, and print requests/s, p50, p99 and errors for both with the ratio.

    .venv/bin/python bench/run.py [--sizes 10000,100000] [--duration 10] [--profile]

Starts an embedded PostgreSQL in a temporary folder (or, with DATABASE_URL, makes a throwaway
database `tracker_bench` on that server), migrates it, seeds it (bench/seed.py), starts the API
as `make run` does (`tracker serve`, one worker process) and the baseline (bench/baseline.py
under uvicorn, one process) on free loopback ports, then runs every scenario with wrk, API and
baseline back to back, at 32 connections with a MAINTAINER's token. Results go to
bench/results/<time>.json (and latest.json); figures and their meaning: bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
BIN = Path(sys.executable).parent
WRK_SCRIPT = BENCH_DIR / "wrk.lua"
# Issues per transition run: the API and the baseline each get one pool for the warm-up and one
# for the measurement, so a late request of one run can never meet the next run's issues.
TRANSITION_POOL = 2000

sys.path.insert(0, str(BENCH_DIR))
import export_rate  # noqa: E402 - bench/ is a folder of scripts, not a package

import seed as seeder  # noqa: E402

# Filters a triager uses: open work by severity and area, newest first or by severity.
FILTERED_PATHS = [
    "/api/issues?status=OPEN&status=TRIAGED&severity=HIGH&severity=CRITICAL",
    "/api/issues?status=IN_PROGRESS&tag=regression",
    "/api/issues?status=OPEN&severity=CRITICAL&tag=crash&sort=-updated",
    "/api/issues?assignee_id=3&status=IN_PROGRESS&status=TRIAGED",
    "/api/issues?tag=security&sort=-severity",
    "/api/issues?severity=HIGH&tag=ui&tag=bug",
]
SEARCH_TERMS = [
    "crash", "export timeout", "login", "blank screen", "safari", "upload large file",
    "memory leak", "dark mode", "keyboard", "stale count", "typeerror", "csv",
    "notifications email", "proxy", "duplicates", "slow dashboard",
]  # fmt: skip


@dataclass
class Scenario:
    name: str
    what: str
    args: list[str]
    writes: bool = False


def scenarios(issues: int) -> list[Scenario]:
    search = [f"/api/issues?q={urllib.parse.quote(t)}" for t in SEARCH_TERMS]
    return [
        Scenario("list first page", "GET /api/issues (25 newest)", ["get", "/api/issues"]),
        Scenario("list with filters", "6 filter sets rotated", ["get", *FILTERED_PATHS]),
        Scenario("search", f"{len(search)} queries rotated, by relevance", ["get", *search]),
        Scenario("get one", "GET /api/issues/<random id>", ["get-one", str(issues)]),
        Scenario(
            "transition",
            "PATCH status, one workflow step, If-Match",
            ["transition", str(min(TRANSITION_POOL, issues // 4))],
            writes=True,
        ),
        Scenario("create", "POST /api/issues, 2 tags", ["create"], writes=True),
    ]


@dataclass
class Measure:
    requests_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    requests: int
    error_detail: dict[str, int] = field(default_factory=dict)
    load_before: float = 0.0
    load_after: float = 0.0
    # CPU time per request, whatever else the machine is doing: the app's process, the database
    # server (all its processes) and the load generator.
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)


# ---- machine -----------------------------------------------------------------------------


def loadavg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "commit": commit,
        "wrk": (wrk.stdout or wrk.stderr).split("\n", 1)[0],
        "load_at_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        sys.exit("wrk is needed: install it with `sudo apt-get install -y wrk`")
    print("Installing wrk (Debian package)…", file=sys.stderr)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(apt, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(apt, env=env, check=True)


def _stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # from field 3 (state) on


def process_cpu(pid: int, *, with_children: bool = False) -> float:
    """CPU seconds used by a process (and its exited, reaped children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    fields = _stat(pid)
    used = int(fields[11]) + int(fields[12])
    if with_children:
        used += int(fields[13]) + int(fields[14])
    return used / ticks


def tree_cpu(pid: int) -> float:
    """CPU seconds of a server and every process it forked, living or exited (PostgreSQL)."""
    total = process_cpu(pid, with_children=True)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = _stat(int(entry.name))
            except (OSError, ValueError):
                continue
            if int(fields[1]) == pid:
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@dataclass
class CpuMeter:
    """CPU used by the app, the database and wrk between start() and stop()."""

    app_pid: int
    db_pid: int | None
    marks: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        now = {"app": process_cpu(self.app_pid)}
        if self.db_pid is not None:
            now["db"] = tree_cpu(self.db_pid)
        children = os.times()
        now["wrk"] = children.children_user + children.children_system
        return now

    def start(self) -> None:
        self.marks = self._now()

    def per_request(self, requests: int) -> dict[str, float]:
        end = self._now()
        return {k: round(1000 * (end[k] - v) / max(requests, 1), 3) for k, v in self.marks.items()}


# ---- database and servers ------------------------------------------------------------------


@contextmanager
def database() -> Iterator[tuple[str, int | None]]:
    """A SQLAlchemy URL (+asyncpg) of an empty database that is thrown away afterwards, and the
    server's main process id when it runs here (to count its CPU time)."""
    from tracker.localdb import (
        EmbeddedPostgres,
        drop_database,
        ensure_database,
        free_port,
    )

    server_url = os.environ.get("DATABASE_URL")
    if server_url:
        from sqlalchemy.engine import make_url

        base = make_url(server_url).set(drivername="postgresql+asyncpg")
        drop_database(base.render_as_string(hide_password=False), "tracker_bench")
        ensure_database(base.render_as_string(hide_password=False), "tracker_bench")
        try:
            yield base.set(database="tracker_bench").render_as_string(hide_password=False), None
        finally:
            drop_database(base.render_as_string(hide_password=False), "tracker_bench")
        return
    folder = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    server = EmbeddedPostgres(folder / "pg", port=free_port())
    server.start()
    try:
        ensure_database(server.url(), "bench")
        postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
        yield server.url("bench"), postmaster
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def libpq(url: str) -> str:
    from tracker.localdb import to_libpq

    return str(to_libpq(url))


class Server:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._log_file = log.open("wb")
        # A process group of its own, so stopping it reaches nothing else.
        self.proc = subprocess.Popen(
            argv,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, url: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        tail = self.log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not start:\n{tail}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log_file.close()


def free_port() -> int:
    from tracker.localdb import free_port as _free

    return int(_free())


# ---- load ---------------------------------------------------------------------------------


def wrk(
    port: int,
    token: str,
    args: list[str],
    seconds: float,
    connections: int,
    threads: int,
) -> Measure:
    if args[0] == "transition":
        args = [*args, str(threads)]
    argv = [
        "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        "--timeout", "5s",
        "-s", str(WRK_SCRIPT), f"http://127.0.0.1:{port}", "--", token, *args,
    ]  # fmt: skip
    before = loadavg()
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    out = proc.stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("WRKJSON "))
    data = json.loads(line.removeprefix("WRKJSON "))
    errors = {k: v for k, v in data["errors"].items() if v}
    return Measure(
        requests_per_s=round(data["requests"] / (data["duration_us"] / 1e6), 1),
        p50_ms=round(data["p50_us"] / 1000, 1),
        p90_ms=round(data["p90_us"] / 1000, 1),
        p99_ms=round(data["p99_us"] / 1000, 1),
        max_ms=round(data["max_us"] / 1000, 1),
        errors=sum(errors.values()),
        requests=data["requests"],
        error_detail=errors,
        load_before=before,
        load_after=loadavg(),
    )


def quiesce(conninfo: str, timeout: float = 60) -> None:
    """Wait until neither app has a statement or transaction in progress.

    When wrk stops, the requests it had in flight are still being served; a pool reset or a
    clean-up that ran meanwhile would race with them (and the next measurement would start
    with their backlog).
    """
    import psycopg

    deadline, quiet = time.monotonic() + timeout, 0
    with psycopg.connect(conninfo, autocommit=True) as conn:
        while quiet < 3 and time.monotonic() < deadline:
            busy = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE state <> 'idle' "
                "AND application_name IN ('tracker', 'tracker-baseline')"
            ).fetchone()
            quiet = quiet + 1 if busy == (0,) else 0
            time.sleep(0.1)


def reset_transition_pool(conninfo: str, after_id: int, count: int) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "UPDATE issues SET status = 'OPEN', version = 1, resolved_at = NULL "
            "WHERE id > %s AND id <= %s",
            (after_id, after_id + count),
        )


def drop_bench_rows(conninfo: str, seeded: int) -> None:
    """Remove what the write scenarios added, so the next size is seeded data only."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM issue_events WHERE issue_ref > %s", (seeded,))
        conn.execute("DELETE FROM issues WHERE id > %s", (seeded,))
        conn.execute("VACUUM ANALYZE issues")


def sign_in(port: int, email: str, password: str) -> str:
    """An access token from the real first-party OAuth flow (code + PKCE), as the web app gets
    one, so it carries the sign-in session that every request checks is still open."""
    import base64
    import hashlib
    import urllib.parse

    from tracker.config import Settings

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    redirect = Settings().oauth_redirect_uri
    body = {
        "email": email,
        "password": password,
        "client_id": "web",
        "redirect_uri": redirect,
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
        "state": "bench",
    }
    base = f"http://127.0.0.1:{port}/api/oauth"
    req = urllib.request.Request(
        f"{base}/authorize",
        json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        code = json.loads(resp.read())["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "client_id": "web",
        "redirect_uri": redirect,
    }
    req = urllib.request.Request(f"{base}/token", urllib.parse.urlencode(form).encode())
    with urllib.request.urlopen(req, timeout=30) as resp:
        return str(json.loads(resp.read())["access_token"])


def compare_shapes(ports: dict[str, int], token: str) -> list[str]:
    """The same GETs on both apps must answer byte-identical JSON; the differences.

    Every list, filter and search path the scenarios send (a search with no match would prove
    nothing), each one's second page through its cursor, and a few issues."""
    import urllib.error

    def fetch(port: int, path: str) -> tuple[int, bytes]:
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            headers={"Authorization": f"Bearer {token}"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    search = [f"/api/issues?q={urllib.parse.quote(t)}" for t in SEARCH_TERMS]
    paths = ["/api/issues", *FILTERED_PATHS, *search]
    paths += [f"/api/issues/{i}" for i in (1, 7, 500)]
    problems = []
    for path in paths:
        answers = [fetch(port, path) for port in ports.values()]
        if answers[0] != answers[1]:
            problems.append(path)
            continue
        status, body = answers[0]
        cursor = json.loads(body).get("next_cursor") if status == 200 else None
        if cursor and "?" in path:
            page = f"{path}&cursor={cursor}"
            if fetch(ports["ours"], page) != fetch(ports["baseline"], page):
                problems.append(page)
    return problems


def py_spy(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    exe = BIN / "py-spy"
    if not exe.exists():
        print("  (--profile needs py-spy in .venv: .venv/bin/uv pip install py-spy)")
        return None
    argv = [str(exe), "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "100"]
    argv += ["-f", "raw", "-o", str(out), "--nonblocking"]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# ---- report -------------------------------------------------------------------------------

TARGETS: dict[str, dict[str, float]] = {
    "list first page": {"rps": 1000, "p99": 60},
    "get one": {"rps": 1500, "p99": 50},
    "create": {"rps": 800, "p99": 75},
    "search": {"p99": 80},
}


def verdict(name: str, ours: Measure, issues: int) -> str:
    target = TARGETS.get(name)
    if not target or (name == "search" and issues < 100_000):
        return ""
    ok = ours.errors == 0 and ours.p99_ms <= target["p99"]
    if "rps" in target:
        ok = ok and ours.requests_per_s >= target["rps"]
    want = f"≥{target['rps']:.0f}/s " if "rps" in target else ""
    return f"{'met' if ok else 'MISSED'} ({want}p99≤{target['p99']:.0f})"


def table(issues: int, rows: list[dict[str, Any]]) -> str:
    head = (
        f"{'scenario':<18} {'ours req/s':>10} {'p50':>7} {'p99':>7} {'err':>4} │ "
        f"{'base req/s':>10} {'p50':>7} {'p99':>7} {'err':>4} │ {'ratio':>5}  target"
    )
    lines = [
        f"\n{issues:,} issues (one API worker process, 32 connections, MAINTAINER)",
        head,
    ]
    lines.append("─" * len(head))
    for row in rows:
        o, b = Measure(**row["ours"]), Measure(**row["baseline"])
        ratio = o.requests_per_s / b.requests_per_s if b.requests_per_s else 0.0
        cells = [
            f"{row['scenario']:<18}",
            f"{o.requests_per_s:>10.0f} {o.p50_ms:>6.1f}ms {o.p99_ms:>5.0f}ms {o.errors:>4} │",
            f"{b.requests_per_s:>10.0f} {b.p50_ms:>6.1f}ms {b.p99_ms:>5.0f}ms {b.errors:>4} │",
            f"{ratio:>5.2f}  {verdict(row['scenario'], o, issues)}",
        ]
        lines.append(" ".join(cells))
    lines.append(
        "CPU ms per request, app / database / wrk (independent of how busy the machine is):"
    )
    for row in rows:

        def cpu(m: dict[str, Any]) -> str:
            c = m.get("cpu_ms_per_request") or {}
            return " / ".join(f"{c[k]:.2f}" if k in c else "-" for k in ("app", "db", "wrk"))

        lines.append(
            f"  {row['scenario']:<18} ours {cpu(row['ours'])}   baseline {cpu(row['baseline'])}"
        )
    loads = [r[k]["load_before"] for r in rows for k in ("ours", "baseline")]
    lines.append(f"load average during the runs: {min(loads):.1f} to {max(loads):.1f}")
    return "\n".join(lines)


# ---- main ---------------------------------------------------------------------------------


WS_LINE = re.compile(
    r"^(?P<name>.+?)\s+(?P<subscribers>\d+) subscribers x (?P<events>\d+) events .*?"
    r"p50 (?P<p50>[\d.]+) ms\s+p99 (?P<p99>[\d.]+) ms\s+max (?P<max>[\d.]+) ms"
)


def run_ws_latency(timeout: float = 900) -> dict[str, Any] | None:
    """bench/ws_latency.py (live updates, from the realtime work), when it is there.

    It starts its own database and API processes; its figures are read from its output lines
    ("<name> N subscribers x M events (...): p50 X ms  p99 Y ms  max Z ms").
    """
    script = BENCH_DIR / "ws_latency.py"
    if not script.exists():
        return None
    print("\nWebSocket fan-out, commit to client (bench/ws_latency.py)…", flush=True)
    try:
        proc = subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        print(f"  ws_latency.py did not finish within {timeout:.0f} s")
        return {"returncode": None, "runs": []}
    print(proc.stdout.rstrip())
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
    runs = []
    for line in proc.stdout.splitlines():
        match = WS_LINE.match(line.strip())
        if match:
            runs.append(
                {
                    "name": match["name"].strip(),
                    "subscribers": int(match["subscribers"]),
                    "events": int(match["events"]),
                    "p50_ms": float(match["p50"]),
                    "p99_ms": float(match["p99"]),
                    "max_ms": float(match["max"]),
                }
            )
    return {"returncode": proc.returncode, "runs": runs, "output": proc.stdout[-5000:]}


@dataclass
class Context:
    args: argparse.Namespace
    conninfo: str
    ports: dict[str, int]
    secret: str
    out_dir: Path
    db_pid: int | None = None
    servers: list[Server] = field(default_factory=list)
    maintainer_email: str = ""

    def token(self) -> str:
        return sign_in(self.ports["ours"], self.maintainer_email, seeder.PASSWORD)


def start_servers(ctx: Context, url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": ctx.secret}
    # As `make run` starts it: the `tracker serve` command, one worker process.
    api = [str(BIN / "tracker"), "serve", "--host", "127.0.0.1", "--port", str(ctx.ports["ours"])]
    api += ["--workers", "1"]
    base = [str(BIN / "uvicorn"), "baseline:app", "--app-dir", str(BENCH_DIR), "--host"]
    base += ["127.0.0.1", "--port", str(ctx.ports["baseline"]), "--workers", "1"]
    base += ["--no-access-log", "--log-level", "warning"]
    ctx.servers.append(Server("API", api, env, ctx.out_dir / "api.log"))
    ctx.servers.append(Server("baseline", base, env, ctx.out_dir / "baseline.log"))
    ctx.servers[0].wait_ready(f"http://127.0.0.1:{ctx.ports['ours']}/healthz")
    ctx.servers[1].wait_ready(f"http://127.0.0.1:{ctx.ports['baseline']}/healthz")


def measure(ctx: Context, sc: Scenario, who: str, issues: int) -> Measure:
    """Warm up, then measure one app on one scenario; both start from the same state."""
    args = ctx.args
    load = (args.connections, args.threads)
    token = ctx.token()  # access tokens live 15 minutes: a fresh sign-in for every run
    warm_args, run_args = sc.args, sc.args
    if sc.name == "transition":
        pool = int(sc.args[1])
        first = 0 if who == "ours" else 2 * pool
        reset_transition_pool(ctx.conninfo, first, 2 * pool)
        warm_args, run_args = [*sc.args, str(first)], [*sc.args, str(first + pool)]
    wrk(ctx.ports[who], token, warm_args, args.warmup, *load)
    quiesce(ctx.conninfo)
    spy = None
    if args.profile and who == "ours":
        raw = ctx.out_dir / f"{issues}-{sc.name.replace(' ', '-')}.raw"
        spy = py_spy(ctx.servers[0].proc.pid, args.duration, raw)
    server = ctx.servers[0 if who == "ours" else 1]
    meter = CpuMeter(server.proc.pid, ctx.db_pid)
    meter.start()
    result = wrk(ctx.ports[who], token, run_args, args.duration, *load)
    result.cpu_ms_per_request = meter.per_request(result.requests)
    if spy is not None:
        spy.wait(timeout=60)
    quiesce(ctx.conninfo)
    return result


def run_size(ctx: Context, issues: int) -> list[dict[str, Any]]:
    only = {s.strip() for s in ctx.args.only.split(",") if s.strip()}
    rows: list[dict[str, Any]] = []
    for index, sc in enumerate(scenarios(issues)):
        if only and sc.name not in only:
            continue
        print(f"  {sc.name}: ", end="", flush=True)
        row: dict[str, Any] = {"scenario": sc.name, "what": sc.what}
        # Alternate who goes first, so neither always meets the warmer (or busier) machine.
        for who in ("ours", "baseline") if index % 2 == 0 else ("baseline", "ours"):
            m = measure(ctx, sc, who, issues)
            row[who] = asdict(m)
            print(f"{who} {m.requests_per_s:.0f}/s p99 {m.p99_ms:.0f} ms  ", end="", flush=True)
        print()
        rows.append(row)
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="issue counts, ascending")
    parser.add_argument("--duration", type=float, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up before each")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (cores are scarce)")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--profile", action="store_true", help="py-spy the API during each run")
    parser.add_argument("--no-ws", action="store_true", help="skip bench/ws_latency.py")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    ensure_wrk()
    out_dir = RESULTS / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = {
        "connections": args.connections,
        "wrk_threads": args.threads,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "api_workers": 1,
        "token_role": "MAINTAINER",
    }
    report: dict[str, Any] = {"machine": machine(), "settings": settings, "sizes": {}}
    print(f"Machine: {json.dumps(report['machine'])}", flush=True)
    with database() as (url, db_pid):
        from tracker import migrations

        print("Migrating…", flush=True)
        migrations.upgrade(url)
        ports = {"ours": free_port(), "baseline": free_port()}
        ctx = Context(args, libpq(url), ports, secrets.token_hex(32), out_dir, db_pid)
        try:
            for size_index, issues in enumerate(sizes):
                if size_index:
                    drop_bench_rows(ctx.conninfo, sizes[size_index - 1])
                print(f"Seeding {issues:,} issues…", flush=True)
                summary = seeder.seed(ctx.conninfo, issues, quiet=True)
                print(f"  {json.dumps(summary)}", flush=True)
                maintainer = int(summary["roles"]["MAINTAINER"])  # type: ignore[index]
                ctx.maintainer_email = f"maintainer{maintainer}@example.com"
                if not ctx.servers:
                    start_servers(ctx, url)
                mismatched = compare_shapes(ports, ctx.token())
                if mismatched:
                    print(f"  JSON differs between the API and the baseline for {mismatched}")
                rows = run_size(ctx, issues)
                exported = export_rate.measure(ports["ours"], ctx.token(), ctx.servers[0].proc.pid)
                report["sizes"][str(issues)] = {
                    "seed": summary,
                    "json_mismatch": mismatched,
                    "scenarios": rows,
                    "export": exported,
                }
                print(table(issues, rows), flush=True)
        finally:
            for server in ctx.servers:
                server.stop()
    ws = None if args.no_ws else run_ws_latency()
    if ws is not None:
        report["ws_latency"] = ws
    report["machine"]["load_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    text = json.dumps(report, indent=2, default=str)
    (out_dir / "results.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(f"\nResults: {out_dir / 'results.json'}")
    failed = any(
        row[who]["errors"] or size["json_mismatch"]
        for size in report["sizes"].values()
        for row in size["scenarios"]
        for who in ("ours", "baseline")
    )
    if ws is not None and ws["returncode"] != 0:
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
