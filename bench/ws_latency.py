"""Commit-to-client latency of live updates: 100 WebSocket subscribers, one and two API processes.

Starts its own embedded PostgreSQL and `tracker serve` processes on free loopback ports, opens the
subscribers in separate processes (so the measuring side does not queue behind the writer), and
commits issue events the way the API does (`record_event` in a transaction). Just before COMMIT
the writer stamps the wall-clock time into the event's data; each subscriber subtracts it from
the moment the message arrives.

    .venv/bin/python bench/ws_latency.py [--subscribers 100] [--events 200] [--interval 0.02]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import text

from tracker import migrations
from tracker.activity.service import record_event
from tracker.auth.models import User
from tracker.auth.service import start_session
from tracker.config import Environment, Settings
from tracker.db import make_engine, make_sessionmaker
from tracker.issues.models import Issue, Severity
from tracker.localdb import EmbeddedPostgres, ensure_database, free_port
from tracker.roles import Role

TRACKER = str(Path(sys.executable).parent / "tracker")
RECEIVER_PROCESSES = 2
WARMUP = 20


# -- subscribers (run in child processes) -----------------------------------------------------


async def _subscribe_all(
    urls: list[str], token: str, count: int, expected: int, pipe: Connection
) -> None:
    from websockets.asyncio.client import connect

    sockets = []
    for n in range(count):
        ws = await connect(urls[n % len(urls)], open_timeout=20, max_size=2**22)
        await ws.send(json.dumps({"type": "auth", "token": token}))
        await ws.send(json.dumps({"type": "subscribe", "channel": "issues", "since": None}))
        while json.loads(await ws.recv())["type"] != "subscribed":
            pass
        sockets.append(ws)
    pipe.send("ready")
    latencies: list[float] = []

    async def collect(ws: Any) -> None:
        seen = 0
        while seen < expected:
            raw = await ws.recv()
            arrived = time.time()
            message = json.loads(raw)
            if message.get("type") != "event" or message.get("id") is None:
                continue
            seen += 1
            stamp = message["data"].get("t")
            if stamp is not None and not message["data"].get("warmup"):
                latencies.append(arrived - stamp)

    try:
        await asyncio.wait_for(asyncio.gather(*(collect(ws) for ws in sockets)), 120)
    finally:
        for ws in sockets:
            await ws.close()
    pipe.send(latencies)


def _receiver(urls: list[str], token: str, count: int, expected: int, pipe: Connection) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_subscribe_all(urls, token, count, expected, pipe))


# -- the writer ---------------------------------------------------------------------------------


async def _seed(url: str, settings: Settings) -> tuple[int, int, str]:
    engine = make_engine(url, pool_size=1)
    async with make_sessionmaker(engine)() as session:
        user = User(
            email="bench@example.com",
            username="bench",
            full_name="Bench",
            password_hash=None,
            role=Role.MAINTAINER,
        )
        session.add(user)
        await session.flush()
        issue = Issue(title="Latency", severity=Severity.LOW, reporter_id=user.id)
        session.add(issue)
        tokens = await start_session(session, settings, user_id=user.id)
        await session.commit()
        ids = (user.id, issue.id, tokens.access_token)
    await engine.dispose()
    return ids


async def _write(url: str, user_id: int, issue_id: int, events: int, interval: float) -> None:
    engine = make_engine(url, pool_size=2)
    factory = make_sessionmaker(engine)
    for n in range(WARMUP + events):
        async with factory() as session:
            await record_event(
                session,
                issue_id=issue_id,
                reporter_id=user_id,
                actor_id=user_id,
                kind="issue.updated",
                data={"changes": {"status": ["OPEN", "TRIAGED"]}},
            )
            stamp = {"t": time.time(), "warmup": n < WARMUP}
            await session.execute(
                # This transaction's event (its final id is drawn at COMMIT).
                text(
                    "UPDATE issue_events SET data = data || CAST(:d AS jsonb) "
                    "WHERE xmin::text = pg_current_xact_id()::xid::text"
                ),
                {"d": json.dumps(stamp)},
            )
            await session.commit()
        await asyncio.sleep(interval)
    await engine.dispose()


# -- orchestration ------------------------------------------------------------------------------


def _wait_http(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("tracker serve exited")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def _scenario(
    name: str, urls: list[str], token: str, db_url: str, ids: tuple[int, int], args: Any
) -> list[float]:
    ctx = mp.get_context("spawn")
    per = [args.subscribers // RECEIVER_PROCESSES] * RECEIVER_PROCESSES
    per[0] += args.subscribers - sum(per)
    children = []
    for count in per:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_receiver, args=(urls, token, count, WARMUP + args.events, child))
        proc.start()
        children.append((proc, parent))
    for _, pipe in children:
        if not pipe.poll(120) or pipe.recv() != "ready":
            raise RuntimeError("subscribers did not connect")
    asyncio.run(_write(db_url, ids[0], ids[1], args.events, args.interval))
    latencies: list[float] = []
    for proc, pipe in children:
        if not pipe.poll(120):
            raise RuntimeError("subscribers did not finish")
        latencies.extend(pipe.recv())
        proc.join(10)
    _report(name, latencies, args)
    return latencies


def _report(name: str, latencies: list[float], args: Any) -> None:
    ms = sorted(x * 1000 for x in latencies)
    quantiles = statistics.quantiles(ms, n=100)
    print(
        f"{name:<14} {args.subscribers} subscribers x {args.events} events "
        f"({len(ms)} deliveries): p50 {quantiles[49]:.2f} ms  p99 {quantiles[98]:.2f} ms  "
        f"max {ms[-1]:.2f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.02, help="seconds between commits")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="tracker-bench-ws-"))
    server = EmbeddedPostgres(workdir / "pg", port=free_port())
    server.start()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        ensure_database(server.url(), "bench")
        db_url = server.url("bench")
        migrations.upgrade(db_url)
        secret = secrets.token_hex(32)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            environment=Environment.DEVELOPMENT,
            secret_key=secret,
            database_url=db_url,
        )
        user_id, issue_id, token = asyncio.run(_seed(db_url, settings))
        ids = (user_id, issue_id)
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "SECRET_KEY": secret,
            "LOG_LEVEL": "WARNING",
            "STORAGE_DIR": str(workdir / "files"),
        }
        ports = [free_port(), free_port()]
        for port in ports:
            procs.append(subprocess.Popen([TRACKER, "serve", "--port", str(port)], env=env))
        for port, proc in zip(ports, procs, strict=True):
            _wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        urls = [f"ws://127.0.0.1:{port}/api/ws" for port in ports]
        print("commit-to-client latency (targets: p99 <= 15 ms one process, <= 20 ms two)")
        _scenario("one process", urls[:1], token, db_url, ids, args)
        _scenario("two processes", urls, token, db_url, ids, args)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
