"""A graceful restart closes every socket with the code docs/realtime.md tells clients to expect."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed

from tests.processes import api_processes
from tracker.config import REPO_ROOT, Settings
from tracker.roles import Role


def _documented_code(why: str) -> int:
    table = (REPO_ROOT / "docs" / "realtime.md").read_text()
    found = re.search(rf"^\| (\d{{4}}) \| [^|]*{why}", table, re.MULTILINE)
    assert found, f"docs/realtime.md lists no close code for {why!r}"
    return int(found.group(1))


@pytest.fixture
def api_process(settings: Settings) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    with api_processes(settings) as [api]:
        yield api


async def test_a_restarting_server_closes_sockets_with_the_documented_code(
    api_process: tuple[int, subprocess.Popen[bytes]], open_socket: Any, make_user: Any
) -> None:
    port, proc = api_process
    staff = await make_user(Role.MAINTAINER)
    client = await open_socket(staff, url=f"ws://127.0.0.1:{port}/api/ws")
    await client.subscribe("issues")
    proc.send_signal(signal.SIGTERM)
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.recv(within=20)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == _documented_code("restart")
    await asyncio.to_thread(proc.wait, 30)  # and it does stop
