"""The dashboard in Chromium: seeded issues show up per severity, in the chart and its table."""

from __future__ import annotations

import re

import psycopg
from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import Stack
from tests.sessions import signed_in_token
from tracker.localdb import to_libpq

# (severity, status, how many): 3 CRITICAL, 2 HIGH, 1 MEDIUM and 4 LOW still open; 2 done.
SEED = [
    ("CRITICAL", "OPEN", 2),
    ("CRITICAL", "IN_PROGRESS", 1),
    ("HIGH", "TRIAGED", 2),
    ("MEDIUM", "IN_PROGRESS", 1),
    ("LOW", "OPEN", 4),
    ("CRITICAL", "DONE", 2),
]
OPEN_BY_SEVERITY = {"Critical": "3", "High": "2", "Medium": "1", "Low": "4"}


def _sign_in_as_maintainer(stack: Stack, context: BrowserContext) -> int:
    out = stack.tracker(
        "users",
        "create",
        "--email",
        "lead@example.com",
        "--password",
        "a long passphrase 42",
        "--role",
        "MAINTAINER",
        "--name",
        "Team Lead",
    )
    match = re.search(r"id (\d+)", out)
    assert match, out
    user_id = int(match.group(1))
    token = signed_in_token(stack.env["SECRET_KEY"], stack.database_url, user_id)
    context.add_cookies(
        [{"name": "tracker_access", "value": token, "url": stack.web_url, "httpOnly": True}]
    )
    return user_id


def _seed(stack: Stack, reporter_id: int) -> None:
    with psycopg.connect(to_libpq(stack.database_url), autocommit=True) as conn:
        n = 0
        for severity, status, count in SEED:
            for _ in range(count):
                n += 1
                conn.execute(
                    "INSERT INTO issues (title, severity, status, reporter_id, resolved_at, created_at)"
                    " VALUES (%s, %s, %s, %s, CASE WHEN %s = 'DONE' THEN now() END,"
                    " now() - make_interval(hours => %s))",
                    (
                        f"Seeded {severity.lower()} issue {n}",
                        severity,
                        status,
                        reporter_id,
                        status,
                        n,
                    ),
                )


def test_dashboard_shows_open_issues_per_severity(
    stack: Stack, context: BrowserContext, page: Page
) -> None:
    user_id = _sign_in_as_maintainer(stack, context)
    _seed(stack, user_id)
    # The stack's worker may have taken a snapshot already: this one is today's, up to date.
    assert "aggregate_stats: rows_changed=" in stack.tracker("jobs", "run", "aggregate_stats")

    page.goto("/dashboard")

    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    chart = page.get_by_test_id("chart-open-by-severity")
    for key, count in {"CRITICAL": "3", "HIGH": "2", "MEDIUM": "1", "LOW": "4"}.items():
        expect(chart.get_by_test_id(f"bar-{key}")).to_have_text(count)
    expect(page.get_by_test_id("kpi-open")).to_contain_text("10")
    expect(page.get_by_test_id("kpi-in-progress")).to_contain_text("2")
    expect(page.get_by_test_id("kpi-done-week")).to_contain_text("2")

    # The same numbers as a table, for anyone who prefers (or needs) them that way.
    chart.get_by_role("button", name="Show table").click()
    table = chart.get_by_role("table")
    expect(table).to_be_visible()
    for label, count in OPEN_BY_SEVERITY.items():
        row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label))
        expect(row.get_by_role("cell")).to_have_text(count)

    # The oldest open issue heads the list, and the worker's snapshot feeds the trend.
    expect(page.get_by_test_id("oldest-open").get_by_role("listitem")).to_have_count(5)
    expect(page.get_by_test_id("oldest-open").get_by_role("listitem").first).to_contain_text(
        "Seeded low issue"
    )
    trend = page.get_by_test_id("chart-trend")
    trend.get_by_role("button", name="Show table").click()
    today = trend.get_by_role("row").last
    expect(today.get_by_role("cell")).to_have_text(["6", "2", "2", "2"])

    # Resolved seeded issues were filed hours before: the resolve medians say so, per severity.
    resolve = page.get_by_test_id("chart-time-to-resolve")
    expect(resolve.get_by_test_id("bar-CRITICAL")).to_contain_text(" h")
    expect(page.get_by_test_id("chart-open-by-tag")).to_contain_text("No open issue has a tag.")


def test_dashboard_sends_a_signed_out_visitor_to_sign_in_and_back(page: Page) -> None:
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/auth/signin\?redirectTo=%2Fdashboard$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
