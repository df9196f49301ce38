"""The import rules of docs/architecture.md, read from the source: domain packages form no cycle,
and the shared modules at the top of `tracker/` import no domain."""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from pathlib import Path

import tracker

ROOT = Path(tracker.__file__).parent

# Modules that put the application together: they may import any domain, and none imports them.
COMPOSITION = {"app", "cli", "demo", "routers", "models", "openapi"}
# Logging and metrics are infrastructure that every module may use.
INFRASTRUCTURE = {"observability"}


def imported_modules(source: str) -> set[str]:
    """Every `tracker.…` module a file imports, at the top, inside functions or for typing."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.split(".")[0] == "tracker"}


def domain_graph(root: Path) -> dict[str, dict[str, set[str]]]:
    """domain -> the other domains it imports -> the files that do (relative to `root`)."""
    domains = {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}
    graph: dict[str, dict[str, set[str]]] = {d: defaultdict(set) for d in domains}
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if len(parts) < 2:
            continue
        for module in imported_modules(path.read_text()):
            target = module.split(".")[1] if "." in module else ""
            if target in domains and target != parts[0]:
                graph[parts[0]][target].add(str(path.relative_to(root)))
    return graph


def cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Each import cycle as a path of domains that ends where it starts (one per cycle found)."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()

    def walk(node: str, path: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt == path[0]:
                ring = frozenset(path)
                if ring not in seen:
                    seen.add(ring)
                    found.append([*path, nxt])
            elif nxt not in path and nxt > path[0]:
                walk(nxt, [*path, nxt])

    for start in sorted(graph):
        walk(start, [start])
    return found


def describe(cycle: list[str], graph: dict[str, dict[str, set[str]]]) -> str:
    steps = [f"{a} -> {b} ({', '.join(sorted(graph[a][b]))})" for a, b in itertools.pairwise(cycle)]
    return "; ".join(steps)


def test_no_two_domains_import_each_other_directly_or_around_a_ring() -> None:
    graph = domain_graph(ROOT)
    found = cycles(graph)
    assert not found, "import cycles between domains: " + " | ".join(
        describe(c, graph) for c in found
    )


def test_shared_modules_import_no_domain() -> None:
    domains = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    offenders = {}
    for path in ROOT.glob("*.py"):
        if path.stem in COMPOSITION:
            continue
        wrong = {
            m
            for m in imported_modules(path.read_text())
            if "." in m and m.split(".")[1] in domains - INFRASTRUCTURE
        }
        if wrong:
            offenders[path.name] = sorted(wrong)
    assert not offenders, f"shared modules importing a domain: {offenders}"


def test_the_check_finds_a_cycle_added_on_purpose(tmp_path: Path) -> None:
    for name, imports in {
        "issues": "from tracker.users import service\n",
        "users": "from tracker.comments.models import Comment\n",
        "comments": "import tracker.issues.models\n",
        "stats": "from tracker.issues import service\n",
    }.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
        (tmp_path / name / "service.py").write_text(imports)
    graph = domain_graph(tmp_path)
    assert cycles(graph) == [["comments", "issues", "users", "comments"]]
    assert "users -> comments (users/service.py)" in describe(cycles(graph)[0], graph)
