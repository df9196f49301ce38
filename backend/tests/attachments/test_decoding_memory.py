"""Decoding images is bounded: six concurrent large screenshots do not take the API's memory.

A 160 KB PNG of 7000 x 7000 pixels decodes to 147 MB of RGB (196 MB as RGBA); six of them at
once, each decoded and converted, took an API process from 155 MB to 3.5 GB. The API runs here
as its own process (`tracker serve`), so its peak resident memory (VmHWM) is what is measured.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw

from tests.processes import api_processes
from tests.sessions import access_token
from tracker.config import Settings
from tracker.roles import Role

MB = 1024 * 1024
BUDGET = 600 * MB


def large_screenshot(width: int = 7000, height: int = 7000) -> bytes:
    image = Image.new("RGB", (width, height), (240, 240, 245))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 350):
        draw.rectangle([x, x, x + 300, x + 120], fill=(30, 90, 200))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    with api_processes(settings) as [(port, proc)]:
        yield f"http://127.0.0.1:{port}", proc


@pytest.mark.parametrize(
    ("side", "thumbnail"),
    [(7000, False), (4800, True)],
    ids=["over-the-thumbnail-cap", "decoded-for-a-thumbnail"],
)
async def test_six_concurrent_large_images_stay_within_the_memory_budget(
    api: tuple[str, subprocess.Popen[bytes]],
    settings: Settings,
    make_user: Any,
    make_issue: Any,
    side: int,
    thumbnail: bool,
) -> None:
    url, proc = api
    reporter = await make_user(Role.REPORTER)
    issues = [await make_issue(reporter) for _ in range(6)]
    picture = await asyncio.to_thread(large_screenshot, side, side)
    assert len(picture) < 400 * 1024
    headers = {"Authorization": f"Bearer {access_token(settings, reporter.id)}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
        answers = await asyncio.gather(
            *(
                client.post(
                    f"/api/issues/{issue.id}/attachments",
                    files={"file": ("screen.png", picture, "image/png")},
                )
                for issue in issues
            )
        )
        assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
        # Each is still an accepted image: listed, and its original downloads byte for byte.
        first = answers[0].json()[0]
        assert first["content_type"] == "image/png"
        # Over the thumbnail cap it is kept and served, shown without a preview.
        assert first["has_thumbnail"] is thumbnail
        download = await client.get(f"/api/attachments/{first['id']}")
        assert download.content == picture
    peak = _peak_rss(proc.pid)
    assert peak < BUDGET, f"the API peaked at {peak // MB} MB"
