"""Check the baseline's promise in PostgreSQL's own statement log: for every request the
benchmark sends, the API and the baseline send the same statements, in the same order, with the
same BEGIN/COMMIT around them (and, for reads, the same parameter values).

    .venv/bin/python bench/statements.py [--issues 2000] [--show]

Starts an embedded PostgreSQL in a temporary folder with `log_statement = all`, migrates and
seeds it (bench/seed.py), starts both apps as bench/run.py does, then sends each scenario's
requests to one app at a time, one request at a time, with a marker statement before each, and
reads the server log back. Also checks that a PATCH or POST answers byte for byte what the other
app then answers for a GET of that issue (the GETs themselves are compared by bench/run.py).
Exits non-zero on any difference.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import run

import seed as seeder

APPS = {"ours": "tracker", "baseline": "tracker-baseline"}
MARK = "bench-statements"
# One log entry: "<time> [<pid>] <application>|LOG:  <message>", continuation lines after it.
ENTRY = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \w+ \[(?P<pid>\d+)\] (?P<app>[^|]*)\|"
    r"(?P<level>[A-Z]+):  (?P<message>.*)$"
)
# asyncpg's type introspection (with JIT off around it), once per connection and type: not part
# of any request's work.
INTROSPECTION = ("typeinfo_tree", "pg_catalog.pg_type", "set_config('jit'")


@dataclass
class Request:
    label: str
    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    reads: bool = True  # its parameter values must match too


@dataclass
class Statement:
    kind: str  # "statement" (simple query protocol) or "execute" (extended, prepared)
    text: str
    parameters: str = ""

    def shape(self) -> str:
        return f"{self.kind}: {self.text}"


def http(port: int, req: Request, token: str) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": f"Bearer {token}", **req.headers}
    data = None
    if req.body is not None:
        data = json.dumps(req.body).encode()
        headers["Content-Type"] = "application/json"
    call = urllib.request.Request(
        f"http://127.0.0.1:{port}{req.path}", data, headers, method=req.method
    )
    try:
        with urllib.request.urlopen(call, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def read_requests(port: int, token: str) -> list[Request]:
    """Every GET the read scenarios send, and a second page through each kind of cursor."""
    out = [Request("list first page", "GET", "/api/issues")]
    out += [Request(f"list with filters {i}", "GET", p) for i, p in enumerate(run.FILTERED_PATHS)]
    out += [
        Request(f"search {t!r}", "GET", f"/api/issues?q={urllib.parse.quote(t)}")
        for t in run.SEARCH_TERMS
    ]
    out += [Request(f"get one {i}", "GET", f"/api/issues/{i}") for i in (1, 7, 500, 99_999_999)]
    # By creation time, by severity, by relevance.
    search = f"/api/issues?q={urllib.parse.quote(run.SEARCH_TERMS[0])}"
    for first in ("/api/issues", run.FILTERED_PATHS[4], search):
        status, _, body = http(port, Request("", "GET", first), token)
        cursor = json.loads(body).get("next_cursor") if status == 200 else None
        if cursor:
            joiner = "&" if "?" in first else "?"
            page = f"{first}{joiner}cursor={cursor}"
            out.append(Request(f"next page of {first}", "GET", page))
    return out


def write_requests(first_id: int, n: int) -> list[Request]:
    """The transition scenario's four workflow steps on one issue, and the create scenario's
    POST (plus one naming a tag that does not exist yet)."""
    out = []
    for version, step in enumerate(("TRIAGED", "IN_PROGRESS", "DONE", "OPEN"), start=1):
        out.append(
            Request(
                f"transition to {step}",
                "PATCH",
                f"/api/issues/{first_id}",
                {"status": step},
                {"If-Match": f'"{version}"'},
                reads=False,
            )
        )
    body = {
        "title": "Benchmark issue: export times out with a large file",
        "description": "Steps:\n\n1. Open the **CSV export**\n2. Pick a year\n\nIt times out.",
        "severity": "HIGH",
        "tags": ["bug", "export"],
    }
    out.append(Request("create", "POST", "/api/issues", body, reads=False))
    new_tag = {**body, "tags": ["export", f"fresh-tag-{n}"]}
    out.append(Request("create with a new tag", "POST", "/api/issues", new_tag, reads=False))
    return out


def parse_log(text: str) -> list[tuple[str, int, str]]:
    """(application, backend pid, message) per entry, continuation lines joined back."""
    entries: list[tuple[str, int, str]] = []
    for line in text.splitlines():
        match = ENTRY.match(line)
        if match:
            entries.append(
                (match["app"], int(match["pid"]), f"{match['level']}: {match['message']}")
            )
        elif entries:
            app, pid, message = entries[-1]
            entries[-1] = (app, pid, f"{message}\n{line}")
    return entries


def segments(entries: list[tuple[str, int, str]]) -> dict[str, dict[int, list[Statement]]]:
    """The statements between one marker and the next, per marker label and backend."""
    out: dict[str, dict[int, list[Statement]]] = {}
    current: dict[int, list[Statement]] | None = None
    for app, pid, message in entries:
        if app == MARK:
            found = re.search(rf"'{MARK} (.*)'", message)
            current = out.setdefault(found[1], {}) if found else None
            continue
        if current is None or app not in APPS.values():
            continue
        statement = re.match(r"LOG: (statement|execute [^:]+): (.*)", message, re.S)
        if statement:
            kind = "statement" if statement[1] == "statement" else "execute"
            if any(word in statement[2] for word in INTROSPECTION):
                continue
            current.setdefault(pid, []).append(Statement(kind, statement[2]))
        elif message.lower().startswith("detail: parameters:") and current.get(pid):
            current[pid][-1].parameters = message.split(": ", 2)[2]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--show", action="store_true", help="print every request's statements")
    args = parser.parse_args(argv)
    os.environ.pop("DATABASE_URL", None)  # the log of an embedded server is needed
    out_dir = Path(tempfile.mkdtemp(prefix="bench-statements-"))
    failures: list[str] = []
    with run.database() as (url, db_pid):
        from tracker import migrations

        migrations.upgrade(url)
        conninfo = run.libpq(url)
        summary = seeder.seed(conninfo, args.issues, quiet=True)
        maintainer = int(summary["roles"]["MAINTAINER"])  # type: ignore[index]
        ports = {"ours": run.free_port(), "baseline": run.free_port()}
        ctx = run.Context(
            argparse.Namespace(), conninfo, ports, secrets.token_hex(32), out_dir, db_pid
        )
        ctx.maintainer_email = f"maintainer{maintainer}@example.com"
        marker = psycopg.connect(conninfo, autocommit=True, application_name=MARK)
        try:
            run.start_servers(ctx, url)
            token = ctx.token()
            reads = read_requests(ports["ours"], token)
            writes = {
                who: write_requests(first, n)
                for n, (who, first) in enumerate((("ours", 101), ("baseline", 102)))
            }
            run.reset_transition_pool(conninfo, 100, 2)
            log_file = Path(marker.execute("SHOW data_directory").fetchone()[0]) / "server.log"
            marker.execute("ALTER SYSTEM SET log_statement = 'all'")
            marker.execute("ALTER SYSTEM SET log_line_prefix = '%m [%p] %a|'")
            marker.execute("SELECT pg_reload_conf()")
            # Once unlogged-for-comparison per app and request: every statement is prepared on
            # the connections the recorded round uses, as after a benchmark's warm-up.
            for port in ports.values():
                for req in reads:
                    http(port, req, token)
            for who, port in ports.items():
                for i, req in enumerate([*reads, *writes[who]]):
                    marker.execute(f"SELECT '{MARK} {who} {i}'")
                    status, headers, body = http(port, req, token)
                    marker.execute(f"SELECT '{MARK} check'")
                    if req.reads:
                        continue
                    # The write's answer must be what the other app answers for a GET now.
                    other = "baseline" if who == "ours" else "ours"
                    issue_id = json.loads(body).get("id")
                    get = Request("", "GET", f"/api/issues/{issue_id}")
                    _, o_headers, o_body = http(ports[other], get, token)
                    if body != o_body or headers.get("etag") != o_headers.get("etag"):
                        failures.append(f"{who} {req.label}: JSON differs from {other}'s GET")
                    if status not in (200, 201):
                        failures.append(f"{who} {req.label}: HTTP {status} {body[:200]!r}")
            marker.execute("ALTER SYSTEM RESET log_statement")
            marker.execute("SELECT pg_reload_conf()")
            log = log_file.read_text(errors="replace")
        finally:
            marker.close()
            for server in ctx.servers:
                server.stop()

    recorded = segments(parse_log(log))
    shapes: dict[str, Counter[str]] = {who: Counter() for who in ports}
    for i, req in enumerate([*reads, *writes["ours"]]):
        per_app = {}
        for who in ports:
            backends = recorded.get(f"{who} {i}", {})
            if len(backends) != 1:
                failures.append(f"{who} {req.label}: statements on {len(backends)} connections")
            per_app[who] = [s for stmts in backends.values() for s in stmts]
            shapes[who].update(s.shape() for s in per_app[who])
        ours, base = per_app["ours"], per_app["baseline"]
        same_text = [s.shape() for s in ours] == [s.shape() for s in base]
        same_params = [s.parameters for s in ours] == [s.parameters for s in base]
        verdict = "same" if same_text and (same_params or not req.reads) else "DIFFERENT"
        if verdict != "same":
            failures.append(f"{req.label}: statements differ")
        flow = " ".join(
            s.text.split()[0].upper() if s.kind == "statement" else s.text.split()[0] for s in ours
        )
        print(f"{verdict:9} {req.method:5} {req.label:40} {len(ours)} statements: {flow}")
        if args.show or verdict != "same":
            for who, stmts in per_app.items():
                print(f"  -- {who}")
                for s in stmts:
                    print(f"     {s.shape()!r}\n       params: {s.parameters[:300]}")
    same_set = set(shapes["ours"]) == set(shapes["baseline"])
    print(
        f"\ndistinct statement shapes: ours {len(shapes['ours'])}, "
        f"baseline {len(shapes['baseline'])}, the same set: {same_set}"
    )
    for problem in failures:
        print(f"PROBLEM: {problem}")
    if failures:
        print(f"FAILED (the apps' logs: {out_dir})")
        return 1
    shutil.rmtree(out_dir, ignore_errors=True)
    print("OK: the same statements and transactions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
