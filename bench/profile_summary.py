"""Where the API's CPU goes: a py-spy raw profile summarised by layer and by hot function.

    .venv/bin/python bench/run.py --profile --sizes 100000     # writes results/<run>/*.raw
    .venv/bin/python bench/profile_summary.py bench/results/<run>/100000-get-one.raw

Each sample is charged to the innermost frame that belongs to a known layer (so time inside
asyncpg called from SQLAlchemy counts as the driver, SQLAlchemy's own work as the ORM/Core), and
the table shows the share of the API process's busy samples per layer, then the functions with
the most inclusive and self time.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# Innermost matching frame wins; order matters only for frames matching several patterns.
LAYERS: list[tuple[str, re.Pattern[str]]] = [
    (
        "logging (structlog/stdlib)",
        re.compile(r"structlog/|logging/__init__|observability/logging"),
    ),
    ("metrics (prometheus)", re.compile(r"prometheus_client/")),
    ("driver (asyncpg)", re.compile(r"asyncpg/")),
    ("SQLAlchemy (ORM + Core)", re.compile(r"sqlalchemy/")),
    ("greenlet bridge", re.compile(r"greenlet")),
    ("pydantic", re.compile(r"pydantic")),
    ("JWT + hmac", re.compile(r"jwt/|hmac\.py|hashlib")),
    ("json", re.compile(r"json/")),
    ("Markdown (markdown-it, nh3)", re.compile(r"markdown_it/|nh3|tracker/markdown")),
    ("thread pool (sync dependencies)", re.compile(r"anyio/|threading\.py|queue\.py|to_thread")),
    (
        "FastAPI (routing, dependency injection)",
        re.compile(r"fastapi/"),
    ),
    ("Starlette", re.compile(r"starlette/")),
    ("uvicorn (HTTP)", re.compile(r"uvicorn/|httptools")),
    ("tracker code", re.compile(r"tracker/")),
    ("asyncio event loop", re.compile(r"asyncio/|uvloop|selectors\.py")),
]


def _frame_key(frame: str) -> str:
    return re.sub(r":\d+\)$", ")", frame)


def summarise(path: Path, top: int = 25) -> str:
    layers: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_frame_key(f) for f in stack.split(";")]
        # Samples of idle worker threads waiting for work are not CPU.
        if frames[-1].startswith(("Condition.wait", "Queue.get", "_worker")):
            continue
        total += n
        layer = "other"
        for frame in reversed(frames):
            match = next((name for name, pat in LAYERS if pat.search(frame)), None)
            if match:
                layer = match
                break
        layers[layer] += n
        for frame in set(frames):
            inclusive[frame] += n
        self_time[frames[-1]] += n
    if not total:
        return f"{path}: no samples"
    out = [f"{path.name}: {total} busy samples", "", "by layer (innermost known frame):"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in layers.most_common()]
    out += ["", "inclusive (functions of the request path):"]
    interesting = re.compile(r"tracker/|sqlalchemy/orm/session|fastapi/dependencies|anyio/|jwt/")
    shown = [(f, n) for f, n in inclusive.most_common() if interesting.search(f)][:top]
    out += [f"  {100 * n / total:5.1f}%  {f[:110]}" for f, n in shown]
    out += ["", "self:"]
    out += [f"  {100 * n / total:5.1f}%  {f[:110]}" for f, n in self_time.most_common(top // 2)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print("\n\n".join(summarise(p, args.top) for p in args.profiles))


if __name__ == "__main__":
    main()
