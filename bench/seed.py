"""Fill a tracker database with realistic, reproducible data for the benchmarks.

    .venv/bin/python bench/seed.py --database-url postgresql+psycopg://... --issues 100000

Users (1 ADMIN, 10 MAINTAINERs, the rest REPORTERs; one shared password hashed once), ~30 tags,
issues with templated titles and Markdown descriptions (rendered with the project's renderer),
skewed severities and statuses, 0-3 tags each, ~2 comments per issue and the issue_events a real
history would have left (issue.created, then one issue.updated per workflow step). Rows go in
with COPY; the secondary indexes of the big tables are dropped first and rebuilt afterwards when
that is faster (a large fill), then everything is ANALYZEd.

Seeding is incremental: with 10,000 issues already present, `--issues 100000` adds issues
10,001-100,000, exactly the rows a fresh 100,000-issue seed would have (one RNG stream per issue).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

import psycopg

SEED = 20261126
PASSWORD = "bench-password-123"  # noqa: S105 - every seeded user, throwaway databases
N_USERS = 200
N_MAINTAINERS = 10
HISTORY_DAYS = 730
# The seeded history ends here; the newest issues are a couple of months older so that no
# update, comment or resolution lands after it.
EPOCH = datetime(2026, 11, 1, tzinfo=UTC)
SETTLE_DAYS = 70

COMPONENTS = [
    "login page", "sign-up form", "dashboard", "issue list", "search", "file upload",
    "attachment preview", "comment editor", "Markdown preview", "notifications",
    "settings page", "user menu", "API", "CSV export", "PDF export", "webhooks",
    "billing page", "invoice view", "password reset", "OAuth login", "mobile layout",
    "dark mode", "keyboard shortcuts", "activity feed", "tag picker", "assignee picker",
    "status badge", "charts", "daily stats", "admin panel", "audit log", "email digest",
]  # fmt: skip
SYMPTOMS = [
    "crashes", "freezes", "is slow", "shows a blank screen", "returns 500",
    "times out", "loses unsaved changes", "shows the wrong date", "renders incorrectly",
    "ignores the filter", "double-submits", "logs me out", "leaks memory",
    "shows a stale count", "fails silently", "throws a TypeError", "overflows its container",
    "cannot be scrolled", "flickers", "rejects valid input", "duplicates entries",
    "sorts in the wrong order", "breaks with emoji", "is not accessible by keyboard",
]  # fmt: skip
CONDITIONS = [
    "after an upgrade", "with a large file", "on slow networks", "when offline",
    "with 1,000+ items", "after session expiry", "in a second tab", "right after sign-in",
    "with a long title", "in Firefox", "on Safari", "on Android", "on iOS", "on Windows",
    "on macOS", "on Linux", "in Chrome", "behind a proxy", "with a screen reader",
    "in RTL languages", "at 200% zoom", "when the list is empty", "with special characters",
]  # fmt: skip
FEEDBACK = [
    "Add {c} filters", "Allow bulk edits in the {c}", "Remember my {c} settings",
    "Make the {c} faster", "Support drag and drop in the {c}", "Export from the {c}",
]  # fmt: skip
TAGS = [
    "bug", "feature", "ui", "ux", "performance", "security", "accessibility", "mobile",
    "desktop", "api", "backend", "frontend", "database", "search", "auth", "billing",
    "export", "import", "notifications", "docs", "regression", "crash", "data-loss",
    "i18n", "browser", "needs-info", "duplicate", "good first issue", "design", "infra",
]  # fmt: skip
FIRST = [
    "Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Radia",
    "Edsger", "Frances", "Donald", "Hedy", "Tim", "Katherine", "John", "Sophie", "Guido",
    "Anita", "Bjarne", "Mary", "Niklaus", "Leslie", "Shafi", "Yukihiro", "Fernando",
]  # fmt: skip
LAST = [
    "Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
    "Perlman", "Dijkstra", "Allen", "Knuth", "Lamarr", "Berners-Lee", "Johnson", "McCarthy",
    "Wilson", "van Rossum", "Borg", "Stroustrup", "Shaw", "Wirth", "Lamport", "Goldwasser",
    "Matsumoto", "Corbato",
]  # fmt: skip
COMMENTS = [
    "I can reproduce this on {p}.",
    "Same here since yesterday's release. Any **workaround**?",
    "Could you attach the browser console output?",
    "Looks related to #{n}.",
    "Fixed in the next release, thanks for the report!",
    "This happens for me too:\n\n```\nTypeError: cannot read properties of undefined\n```",
    "Triaged: affects the {c} only.",
    "Steps:\n\n1. open the {c}\n2. wait\n3. it {s}",
    "Confirmed, raising the severity.",
    "Thanks, that worked. Closing from my side.",
]  # fmt: skip

SEVERITIES = (("LOW", 30), ("MEDIUM", 45), ("HIGH", 20), ("CRITICAL", 5))
STATUSES = (("OPEN", 30), ("TRIAGED", 15), ("IN_PROGRESS", 15), ("DONE", 40))
WORKFLOW = ("OPEN", "TRIAGED", "IN_PROGRESS", "DONE")
N_DESCRIPTIONS = 400
N_COMMENT_BODIES = 300


def _render() -> tuple[object, bool]:
    """The project's Markdown renderer, or a plain escape when it is not there yet."""
    try:
        from tracker.markdown import render_markdown
    except ImportError:
        return (lambda text: "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n"))), False
    return render_markdown, True


def _description(rng: random.Random) -> str:
    c, s, k = rng.choice(COMPONENTS), rng.choice(SYMPTOMS), rng.choice(CONDITIONS)
    other = rng.choice(COMPONENTS)
    parts = [
        f"The **{c}** {s} {k}.",
        (
            "## Steps to reproduce\n\n"
            f"1. Open the {c}\n2. Go to the {other}\n3. Come back to the {c} {k}"
        ),
        f"## Expected\n\nThe {c} keeps working and the {other} shows the current data.",
        f"## Actual\n\nIt {s}. This started about {rng.randint(2, 30)} days ago.",
    ]
    if rng.random() < 0.4:
        parts.append(
            "```\nError: request failed with status "
            f"{rng.choice([400, 409, 500, 502, 504])}\n    at {c.replace(' ', '_')}.js:"
            f"{rng.randint(10, 900)}\n```"
        )
    if rng.random() < 0.3:
        parts.append(f"Workaround: reload the page, or use the {other} instead.")
    if rng.random() < 0.2:
        parts.append(f"| browser | works |\n|---|---|\n| {k} | no |\n| default | yes |")
    return "\n\n".join(parts)


def _title(rng: random.Random) -> str:
    c = rng.choice(COMPONENTS)
    if rng.random() < 0.15:
        return rng.choice(FEEDBACK).format(c=c)
    title = f"{c[0].upper()}{c[1:]} {rng.choice(SYMPTOMS)}"
    return f"{title} {rng.choice(CONDITIONS)}" if rng.random() < 0.7 else title


def _weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    return rng.choices([c for c, _ in choices], weights=[w for _, w in choices])[0]


@dataclass
class Catalog:
    """Everything shared by all issues, made once per seed."""

    descriptions: list[tuple[str, str]]
    comment_bodies: list[tuple[str, str]]
    reporters: list[int]
    maintainers: list[int]
    tag_ids: list[int] = field(default_factory=list)


def _catalog(rng: random.Random) -> Catalog:
    render, _ = _render()
    descriptions = []
    for _ in range(N_DESCRIPTIONS):
        text = _description(rng)
        descriptions.append((text, render(text)))  # type: ignore[operator]
    bodies = []
    for _ in range(N_COMMENT_BODIES):
        text = rng.choice(COMMENTS).format(
            p=rng.choice(CONDITIONS),
            n=rng.randint(1, 5000),
            c=rng.choice(COMPONENTS),
            s=rng.choice(SYMPTOMS),
        )
        bodies.append((text, render(text)))  # type: ignore[operator]
    admin, maintainers = 1, list(range(2, 2 + N_MAINTAINERS))
    reporters = list(range(2 + N_MAINTAINERS, N_USERS + 1))
    return Catalog(descriptions, bodies, reporters + maintainers + [admin], maintainers)


def _copy(cur: psycopg.Cursor[Any], table: str, columns: Sequence[str], rows: object) -> int:
    n = 0
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:  # type: ignore[attr-defined]
            copy.write_row(row)
            n += 1
    return n


def seed_users(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """~200 users, once; returns the id of one user per role (for tokens)."""
    if conn.execute("SELECT count(*) FROM users").fetchone() != (0,):
        rows = conn.execute("SELECT DISTINCT ON (role) role, id FROM users ORDER BY role, id")
        return {str(role): int(uid) for role, uid in rows}
    from tracker.auth.passwords import hash_password

    password_hash = hash_password(PASSWORD)  # argon2id is slow on purpose: once, shared
    rng = random.Random(SEED)
    created = EPOCH - timedelta(days=HISTORY_DAYS + 30)

    def users() -> Iterator[tuple[object, ...]]:
        for uid in range(1, N_USERS + 1):
            role = "ADMIN" if uid == 1 else "MAINTAINER" if uid <= 1 + N_MAINTAINERS else "REPORTER"
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            email = f"{role.lower()}{uid}@example.com"
            handle = f"{role.lower()}{uid}"
            yield (uid, email, handle, name, password_hash, role, True, created, created)

    with conn.cursor() as cur:
        cols = ("id", "email", "username", "full_name", "password_hash", "role", "is_active")
        _copy(cur, "users", (*cols, "created_at", "updated_at"), users())
        _copy(
            cur,
            "tags",
            ("id", "name", "created_at"),
            ((i, t, created) for i, t in enumerate(TAGS, 1)),
        )
        cur.execute("SELECT setval('users_id_seq', (SELECT max(id) FROM users))")
        cur.execute("SELECT setval('tags_id_seq', (SELECT max(id) FROM tags))")
    return {"ADMIN": 1, "MAINTAINER": 2, "REPORTER": 2 + N_MAINTAINERS}


@dataclass
class Batch:
    issues: list[tuple[object, ...]] = field(default_factory=list)
    tags: list[tuple[int, int]] = field(default_factory=list)
    comments: list[tuple[object, ...]] = field(default_factory=list)
    events: list[tuple[object, ...]] = field(default_factory=list)


def _issue(issue_id: int, total_span: int, cat: Catalog, batch: Batch) -> None:
    # One RNG stream per issue: issue k is the same whether seeded in one go or incrementally.
    rng = random.Random(SEED * 1_000_003 + issue_id)
    # Ids follow creation time, spread over two years with more recent activity.
    frac = min(1.0, (issue_id / total_span) ** 0.7)
    days_back = SETTLE_DAYS + (HISTORY_DAYS - SETTLE_DAYS) * (1 - frac)
    created = EPOCH - timedelta(days=days_back, seconds=rng.randint(0, 3600))
    reporter = rng.choice(cat.reporters)
    severity = _weighted(rng, SEVERITIES)
    status = _weighted(rng, STATUSES)
    steps = WORKFLOW.index(status)
    # A few issues were reopened: two more steps of history on the same status.
    extra = 2 if steps >= 2 and rng.random() < 0.05 else 0
    assignee = rng.choice(cat.maintainers) if steps or rng.random() < 0.1 else None
    title = _title(rng)
    description, html = rng.choice(cat.descriptions)
    when = created
    events: list[tuple[object, ...]] = [
        (issue_id, issue_id, reporter, reporter, "issue.created",
         json.dumps({"title": title, "severity": severity, "tags": []}), created),
    ]  # fmt: skip
    actor = assignee or cat.maintainers[0]
    history = [WORKFLOW[i] for i in range(steps + 1)]
    if extra:
        history += [WORKFLOW[steps - 1], WORKFLOW[steps]]
    for before, after in itertools.pairwise(history):
        when += timedelta(hours=rng.randint(1, 240))
        change = json.dumps({"changes": {"status": [before, after]}})
        events.append((issue_id, issue_id, reporter, actor, "issue.updated", change, when))
    updated = when
    resolved = updated if status == "DONE" else None

    comments_before = len(batch.comments)
    for _ in range(rng.choice((0, 0, 1, 1, 2, 2, 3, 3, 4, 4))):
        when += timedelta(hours=rng.randint(1, 72))
        body, body_html = rng.choice(cat.comment_bodies)
        author = rng.choice((reporter, actor, rng.choice(cat.reporters)))
        batch.comments.append((issue_id, author, body, body_html, when, when))
        events.append(
            (
                issue_id,
                issue_id,
                reporter,
                author,
                "comment.created",
                json.dumps({}),
                when,
            )
        )
        updated = max(updated, when)
    tags = rng.sample(cat.tag_ids, rng.choice((0, 1, 1, 2, 2, 3)))
    batch.tags.extend((issue_id, t) for t in tags)
    version = len(history)
    comments = len(batch.comments) - comments_before
    batch.issues.append(
        (issue_id, title, description, html, severity, status, reporter, assignee, version,
         resolved, created, updated, comments)
    )  # fmt: skip
    batch.events.extend(events)


ISSUE_COLUMNS = (
    "id", "title", "description", "description_html", "severity", "status", "reporter_id",
    "assignee_id", "version", "resolved_at", "created_at", "updated_at", "comment_count",
)  # fmt: skip
EVENT_COLUMNS = (
    "issue_id",
    "issue_ref",
    "reporter_id",
    "actor_id",
    "kind",
    "data",
    "created_at",
)
COMMENT_COLUMNS = (
    "issue_id",
    "author_id",
    "body",
    "body_html",
    "created_at",
    "updated_at",
)
BIG_TABLES = ("issues", "issue_tags", "comments", "issue_events")


def _skip_fk_triggers(cur: psycopg.Cursor[Any]) -> None:
    """Skip the per-row foreign-key checks (most of COPY's time) when we may: every reference
    is made here from ids that exist. Needs a superuser; otherwise the checks simply run."""
    try:
        with cur.connection.transaction():
            cur.execute("SET LOCAL session_replication_role = replica")
    except psycopg.errors.InsufficientPrivilege:
        pass


def _drop_indexes(cur: psycopg.Cursor[Any]) -> list[str]:
    """Drop the non-unique secondary indexes of the big tables; their definitions to rebuild."""
    rows = cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname = ANY(%s) "
        "AND NOT i.indisprimary AND NOT i.indisunique",
        (list(BIG_TABLES),),
    ).fetchall()
    for name, _ in rows:
        cur.execute(f"DROP INDEX {name}")
    return [definition for _, definition in rows]


def _index_search_terms(cur: psycopg.Cursor[Any], first: int, *, rebuild: bool) -> None:
    """What the insert trigger of migration 0005 does, for every issue from `first` on in one
    statement; with `rebuild`, its primary key is built afterwards instead of grown."""
    if rebuild:
        cur.execute("ALTER TABLE search_terms DROP CONSTRAINT pk_search_terms")
    cur.execute(
        "INSERT INTO search_terms (lexeme, issue_id, score) "
        "SELECT w.lexeme, i.id, search_term_score(w.weights) "
        "FROM issues i, unnest(i.search) w WHERE i.id >= %s",
        (first,),
    )
    if rebuild:
        cur.execute(
            "ALTER TABLE search_terms ADD CONSTRAINT pk_search_terms "
            "PRIMARY KEY (lexeme, issue_id) INCLUDE (score)"
        )


def seed(
    conninfo: str, issues: int, *, reset: bool = False, quiet: bool = False
) -> dict[str, object]:
    """Make the database hold `issues` seeded issues (adding the missing ones); a summary."""
    started = time.perf_counter()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        if reset:
            conn.execute(
                "TRUNCATE issue_events, comments, issue_tags, attachments, issues, tags, "
                "search_terms, users RESTART IDENTITY CASCADE"
            )
        roles = seed_users(conn)
        have = conn.execute("SELECT coalesce(max(id), 0) FROM issues").fetchone()
        first = int(have[0]) + 1 if have else 1
        cat = _catalog(random.Random(SEED))
        cat.tag_ids = [r for (r,) in conn.execute("SELECT id FROM tags ORDER BY id")]
        if first > issues:
            return {"issues": first - 1, "added": 0, "seconds": 0.0, "roles": roles}
        added = issues - first + 1
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
            _skip_fk_triggers(cur)
            # Seeded events carry their final ids already: the commit-time trigger that gives a
            # new event its id (migration 0002) must not renumber a million rows.
            cur.execute("ALTER TABLE issue_events DISABLE TRIGGER issue_events_at_commit")
            # The search index (migration 0005) is filled once, after the COPY, below.
            cur.execute("ALTER TABLE issues DISABLE TRIGGER issues_search_terms_insert")
            # Each issue's comment count (migration 0009) is in its row already.
            cur.execute("ALTER TABLE comments DISABLE TRIGGER comments_count")
            # Rebuilding an index once is much cheaper than growing it row by row, when the
            # fill is large against what is there.
            rebuild = _drop_indexes(cur) if added >= first else []
            counts = {"issues": 0, "issue_tags": 0, "comments": 0, "issue_events": 0}
            chunk = 20_000
            for lo in range(first, issues + 1, chunk):
                batch = Batch()
                for issue_id in range(lo, min(issues, lo + chunk - 1) + 1):
                    _issue(issue_id, max(issues, 100_000), cat, batch)
                counts["issues"] += _copy(cur, "issues", ISSUE_COLUMNS, batch.issues)
                counts["issue_tags"] += _copy(cur, "issue_tags", ("issue_id", "tag_id"), batch.tags)
                counts["comments"] += _copy(cur, "comments", COMMENT_COLUMNS, batch.comments)
                counts["issue_events"] += _copy(cur, "issue_events", EVENT_COLUMNS, batch.events)
                if not quiet:
                    print(
                        f"  seeded issues up to {lo + len(batch.issues) - 1}",
                        file=sys.stderr,
                    )
            copied = time.perf_counter()
            _index_search_terms(cur, first, rebuild=bool(rebuild))
            for definition in rebuild:
                cur.execute(definition)
            indexed = time.perf_counter()
            for table in ("issues", "comments", "issue_events"):
                cur.execute(
                    f"SELECT setval('{table}_id_seq', (SELECT coalesce(max(id), 1) FROM {table}))"
                )
            cur.execute("ALTER TABLE issue_events ENABLE TRIGGER issue_events_at_commit")
            cur.execute("ALTER TABLE issues ENABLE TRIGGER issues_search_terms_insert")
            cur.execute("ALTER TABLE comments ENABLE TRIGGER comments_count")
        # VACUUM marks a page all-visible (what index-only scans rely on) only once its rows'
        # commit is on disk; the fill committed asynchronously, so flush it first: a
        # transaction with an id commits synchronously and flushes the log up to itself.
        conn.execute("SET synchronous_commit = on")
        conn.execute("SELECT pg_current_xact_id()")
        for table in ("users", "tags", "search_terms", *BIG_TABLES):
            conn.execute(f"VACUUM ANALYZE {table}")
    done = time.perf_counter()
    phases = {
        "copy": round(copied - started, 1),
        "indexes": round(indexed - copied, 1),
        "analyze": round(done - indexed, 1),
    }
    seconds = round(done - started, 1)
    return {
        "issues": issues,
        "added": added,
        "rows": counts,
        "seconds": seconds,
        "phases": phases,
        "roles": roles,
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="SQLAlchemy or libpq URL")
    parser.add_argument("--issues", type=int, default=100_000)
    parser.add_argument("--reset", action="store_true", help="empty the tables first")
    args = parser.parse_args(argv)
    from tracker.localdb import to_libpq

    url = args.database_url
    conninfo = to_libpq(url) if "+" in url.split("://", 1)[0] else url
    print(json.dumps(seed(conninfo, args.issues, reset=args.reset)))


if __name__ == "__main__":
    main()
