"""Moving attachments from one store to another, and checking a store against the rows.

What must exist comes from the database: each attachment's file (its size and SHA-256 are on
its row) and, for images, its thumbnail. `migrate` copies those objects from the current store
to another, resumably: an object already there with the right size and checksum is left as it
is, so a migration that stopped half-way starts again where it was. Every copy is checked while
it streams (the bytes read must have the row's SHA-256, the stored object the bytes' size);
one that fails is removed from the target and reported. `check` lists a store once and reports
rows without objects (or with an object of the wrong size) and objects without rows.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from tracker.attachments import repository, storage


@dataclass(frozen=True)
class Expected:
    key: str
    size: int | None = None  # None for a thumbnail: its size is the source's
    sha256: str | None = None


@dataclass
class MigrationReport:
    total: int = 0
    copied: int = 0
    present: int = 0
    copied_bytes: int = 0
    missing: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.failed


@dataclass
class CheckReport:
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    wrong_size: list[str] = field(default_factory=list)
    without_row: list[storage.ObjectInfo] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.wrong_size


async def expected_objects(session: AsyncSession) -> list[Expected]:
    expected = []
    for issue_id, attachment_id, size, sha256, has_thumbnail in await repository.stored_files(
        session
    ):
        expected.append(Expected(storage.file_key(issue_id, attachment_id), size, sha256))
        if has_thumbnail:
            expected.append(Expected(storage.thumbnail_key(issue_id, attachment_id)))
    return expected


async def _sha256(store: storage.ObjectStore, key: str) -> str:
    digest = hashlib.sha256()
    body = await store.open(key)
    async for chunk in body.chunks:
        digest.update(chunk)
    return digest.hexdigest()


def human(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    scaled = size / 1024
    for unit in ("KB", "MB"):
        if scaled < 1024:
            return f"{scaled:.1f} {unit}"
        scaled /= 1024
    return f"{scaled:.1f} GB"


async def migrate(
    source: storage.ObjectStore,
    target: storage.ObjectStore,
    expected: list[Expected],
    *,
    echo: Callable[[str], None],
    quick: bool = False,
    jobs: int = 4,
) -> MigrationReport:
    """Copy every expected object from `source` to `target`, `jobs` at a time.

    `quick` takes an object already in the target with the right size as copied without
    reading it back for its checksum."""
    report = MigrationReport(total=len(expected))
    queue: asyncio.Queue[tuple[int, Expected]] = asyncio.Queue()
    for item in enumerate(expected, 1):
        queue.put_nowait(item)
    width = len(str(len(expected)))

    def say(n: int, what: str) -> None:
        echo(f"[{n:>{width}}/{len(expected)}] {what}")

    async def work() -> None:
        while not queue.empty():
            n, item = queue.get_nowait()
            try:
                say(n, await _move_one(source, target, item, report, quick=quick))
            except storage.StorageError as exc:
                report.failed.append(item.key)
                say(n, f"FAILED {item.key}: {exc}")

    await asyncio.gather(*(work() for _ in range(max(1, jobs))))
    return report


async def _move_one(
    source: storage.ObjectStore,
    target: storage.ObjectStore,
    item: Expected,
    report: MigrationReport,
    *,
    quick: bool,
) -> str:
    found = await source.stat(item.key)
    if found is None:
        report.missing.append(item.key)
        return f"MISSING in the source: {item.key}"
    size = item.size if item.size is not None else found.size
    there = await target.stat(item.key)
    if there is not None and there.size == size:
        wanted = item.sha256 or await _sha256(source, item.key)
        if quick or await _sha256(target, item.key) == wanted:
            report.present += 1
            return f"present {item.key}"
    digest = hashlib.sha256()
    body = await source.open(item.key)

    async def hashed() -> AsyncIterator[bytes]:
        async for chunk in body.chunks:
            digest.update(chunk)
            yield chunk

    written = await target.put(item.key, hashed())
    problem = None
    if written != size:
        problem = f"read {written} bytes of {size}"
    elif item.sha256 is not None and digest.hexdigest() != item.sha256:
        problem = "its SHA-256 is not the one on its row (the source copy is damaged)"
    else:
        stored = await target.stat(item.key)
        if stored is None or stored.size != written:
            problem = "the target does not hold what was written"
    if problem is not None:
        await target.delete([item.key])
        report.failed.append(item.key)
        return f"FAILED {item.key}: {problem}"
    report.copied += 1
    report.copied_bytes += written
    return f"copied {item.key} ({human(written)})"


async def check(store: storage.ObjectStore, expected: list[Expected]) -> CheckReport:
    listed = {info.key: info async for info in store.list_prefix(storage.ISSUES_PREFIX)}
    report = CheckReport(checked=len(expected))
    for item in expected:
        info = listed.pop(item.key, None)
        if info is None:
            report.missing.append(item.key)
        elif item.size is not None and info.size != item.size:
            report.wrong_size.append(f"{item.key} ({info.size} bytes, the row says {item.size})")
    report.without_row = sorted(listed.values(), key=lambda info: info.key)
    return report
