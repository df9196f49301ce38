"""How `tracker up` watches the processes it starts: waiting until one answers over HTTP, and
when to start a crashed worker again."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from collections.abc import Callable


def wait_http(
    url: str, timeout: float, proc: subprocess.Popen[bytes], cancelled: Callable[[], bool]
) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None or cancelled():
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback URL
                if resp.status < 500:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


class WorkerRestarts:
    """When to start a crashed worker again: after 1 s, then twice as long each time it crashes
    again soon after starting (at most a minute), and at once after a long healthy run."""

    FIRST_DELAY, MAX_DELAY, HEALTHY_RUN = 1.0, 60.0, 120.0

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, say: Callable[[str], None] = print
    ) -> None:
        self.clock = clock
        self.say = say
        self.delay = self.FIRST_DELAY
        self.started = clock()
        self.restart_at: float | None = None

    def due(self, returncode: int) -> bool:
        """Called while the worker is down; True when it is time to start it again."""
        now = self.clock()
        if self.restart_at is None:
            if now - self.started >= self.HEALTHY_RUN:
                self.delay = self.FIRST_DELAY
            self.say(f"worker exited with code {returncode}; restarting in {self.delay:g} s")
            self.restart_at = now + self.delay
            self.delay = min(self.delay * 2, self.MAX_DELAY)
        if now < self.restart_at:
            return False
        self.restart_at, self.started = None, now
        return True
