"""The heart of the product in a real browser: file, triage, discuss, finish, follow."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Stack, live_frames, make_user, signed_in, wait_until_live
from tracker.localdb import to_libpq


@pytest.fixture
def people(browser: Browser, stack: Stack) -> Iterator[tuple[Page, Page]]:
    reporter_id = make_user(stack, "rita@example.com", "REPORTER", "Rita Reporter")
    maintainer_id = make_user(stack, "max@example.com", "MAINTAINER", "Max Maintainer")
    reporter, maintainer = (
        signed_in(browser, stack, reporter_id),
        signed_in(browser, stack, maintainer_id),
    )
    yield reporter.new_page(), maintainer.new_page()
    reporter.close()
    maintainer.close()


def test_reporter_files_maintainer_finishes_reporter_follows(
    people: tuple[Page, Page],
) -> None:
    reporter, maintainer = people

    # The reporter files an issue written in Markdown, checking the preview first.
    reporter.goto("/issues")
    expect(reporter.get_by_test_id("issues-empty")).to_be_visible()
    reporter.get_by_role("link", name="New issue").click()
    reporter.get_by_label("Title").fill("Pay button does nothing on Safari")
    reporter.get_by_label("Description").fill(
        "Steps:\n\n1. Open the **checkout**\n2. Press `Pay`\n\n<script>alert(1)</script>"
    )
    reporter.get_by_label("Severity").select_option("HIGH")
    reporter.get_by_label("Tags").fill("checkout, safari")
    reporter.get_by_test_id("preview-tab").click()
    preview = reporter.get_by_test_id("markdown-preview")
    expect(preview.locator("strong")).to_have_text("checkout")
    reporter.get_by_role("button", name="Create issue", exact=True).last.click()

    expect(reporter).to_have_url(re.compile(r"/issues/\d+$"))
    issue_url = reporter.url
    description = reporter.get_by_test_id("issue-description")
    expect(description.locator("strong")).to_have_text("checkout")
    expect(description.locator("code")).to_have_text("Pay")
    expect(description).to_contain_text("<script>alert(1)</script>")  # shown, not run
    expect(reporter.get_by_test_id("issue-status")).to_contain_text("Open")
    expect(reporter.get_by_test_id("transitions")).to_have_count(0)

    # The maintainer finds it in the list and works it through to done, with a comment.
    maintainer.goto("/issues")
    maintainer.get_by_role("link", name="Pay button does nothing on Safari").click()
    expect(maintainer).to_have_url(issue_url)
    status = maintainer.get_by_test_id("issue-status")
    maintainer.get_by_role("button", name="Mark triaged").click()
    expect(status).to_contain_text("Triaged")
    maintainer.get_by_role("combobox", name="Assignee").select_option(label="Max Maintainer")
    maintainer.get_by_role("button", name="Save", exact=True).click()
    expect(maintainer.get_by_test_id("timeline")).to_contain_text("assigned this to Max Maintainer")
    maintainer.get_by_role("button", name="Start progress").click()
    expect(status).to_contain_text("In progress")
    maintainer.get_by_role("textbox", name="Comment", exact=True).fill(
        "Fixed in **v2.1** — Safari blocked the popup."
    )
    maintainer.get_by_role("button", name="Comment", exact=True).click()
    expect(maintainer.get_by_test_id("comment-body").locator("strong")).to_have_text("v2.1")
    maintainer.get_by_role("button", name="Mark done").click()
    expect(status).to_contain_text("Done")
    expect(maintainer.get_by_role("button", name="Reopen")).to_be_visible()

    # The reporter sees the new status, the comment and the history.
    reporter.goto(issue_url)
    expect(reporter.get_by_test_id("issue-status")).to_contain_text("Done")
    comment = reporter.get_by_test_id("comment")
    expect(comment).to_contain_text("Max Maintainer")
    expect(comment.get_by_test_id("comment-body").locator("strong")).to_have_text("v2.1")
    timeline = reporter.get_by_test_id("timeline")
    for line in (
        "Rita Reporter filed this issue",
        "Max Maintainer moved this from Open to Triaged",
        "moved this from Triaged to In progress",
        "moved this from In progress to Done",
    ):
        expect(timeline).to_contain_text(line)
    expect(reporter.get_by_test_id("transitions")).to_have_count(0)

    reporter.goto("/issues")
    row = reporter.get_by_test_id("issue-list").locator("li").first
    expect(row).to_contain_text("Pay button does nothing on Safari")
    expect(row).to_contain_text("Done")


def test_stale_page_gets_a_clear_message(people: tuple[Page, Page], stack: Stack) -> None:
    reporter, maintainer = people
    reporter.goto("/issues/new")
    reporter.get_by_label("Title").fill("Dark mode contrast")
    reporter.get_by_role("button", name="Create issue", exact=True).last.click()
    expect(reporter).to_have_url(re.compile(r"/issues/\d+$"))
    url = reporter.url

    # This tab gets no live updates (as when its connection is down), so it stays on version 1.
    maintainer.route_web_socket(re.compile(r"/api/ws$"), lambda ws: None)
    maintainer.goto(url)
    other = maintainer.context.new_page()
    other.goto(url)
    other.get_by_role("button", name="Mark triaged").click()
    expect(other.get_by_test_id("issue-status")).to_contain_text("Triaged")

    # The first tab still shows version 1: its change is refused, not silently applied.
    maintainer.get_by_role("button", name="Mark triaged").click()
    expect(maintainer.get_by_test_id("stale-warning")).to_contain_text(
        "This issue changed since you opened it"
    )
    maintainer.get_by_test_id("stale-warning").get_by_role("link", name="Reload").click()
    expect(maintainer.get_by_test_id("issue-status")).to_contain_text("Triaged")


def test_everything_works_without_javascript(browser: Browser, stack: Stack) -> None:
    reporter_id = make_user(stack, "nojs@example.com", "REPORTER", "Noel Nojs")
    maintainer_id = make_user(stack, "staff@example.com", "MAINTAINER", "Sam Staff")
    with psycopg.connect(to_libpq(stack.database_url)) as conn:
        conn.execute(
            "INSERT INTO issues (title, severity, reporter_id, created_at) "
            "SELECT 'Older issue ' || g, 'LOW', %s, now() - make_interval(mins => g) "
            "FROM generate_series(1, 30) g",
            (reporter_id,),
        )
    reporter = signed_in(browser, stack, reporter_id, javascript=False).new_page()
    maintainer = signed_in(browser, stack, maintainer_id, javascript=False).new_page()

    reporter.goto("/issues/new")
    reporter.get_by_label("Title").fill("Export button is greyed out")
    reporter.get_by_label("Description").fill("It says _disabled_ even for **admins**")
    reporter.get_by_test_id("preview-tab").click()  # a server round trip
    expect(reporter.get_by_test_id("markdown-preview").locator("strong")).to_have_text("admins")
    expect(reporter.get_by_label("Title")).to_have_value("Export button is greyed out")
    reporter.get_by_role("button", name="Create issue", exact=True).last.click()
    expect(reporter).to_have_url(re.compile(r"/issues/\d+$"))
    issue_url = reporter.url
    expect(reporter.get_by_test_id("issue-description").locator("em")).to_have_text("disabled")
    reporter.get_by_role("textbox", name="Comment", exact=True).fill(
        "Still happening on **Firefox**"
    )
    reporter.get_by_role("button", name="Comment", exact=True).click()
    expect(reporter.get_by_test_id("comment-body").locator("strong")).to_have_text("Firefox")

    maintainer.goto(issue_url)
    maintainer.get_by_role("button", name="Mark triaged").click()
    expect(maintainer.get_by_test_id("issue-status")).to_contain_text("Triaged")

    # The list pages through "Load more" as a plain link.
    reporter.goto("/issues?severity=LOW")
    rows = reporter.get_by_test_id("issue-list").locator("li")
    expect(rows).to_have_count(25)
    reporter.get_by_test_id("load-more").click()
    expect(rows).to_have_count(5)
    expect(rows.last).to_contain_text("Older issue 30")
    expect(reporter.get_by_role("link", name="Back to the first page")).to_be_visible()


def test_load_more_appends_and_filters_live_in_the_url(
    people: tuple[Page, Page], stack: Stack
) -> None:
    _reporter, maintainer = people
    with psycopg.connect(to_libpq(stack.database_url)) as conn:
        conn.execute(
            "INSERT INTO issues (title, severity, reporter_id, created_at) "
            "SELECT 'Crash report ' || g, "
            "(ARRAY['LOW','CRITICAL'])[1 + g % 2], u.id, now() - make_interval(mins => g) "
            "FROM generate_series(1, 30) g, users u WHERE u.email = 'rita@example.com'"
        )
    frames = live_frames(maintainer)
    maintainer.goto("/issues")
    rows = maintainer.get_by_test_id("issue-list").locator("li")
    expect(rows).to_have_count(25)
    # Before hydration the link loads the next page as a new document; the test is of the
    # appending the page does once it runs.
    wait_until_live(maintainer, frames)
    maintainer.get_by_test_id("load-more").click()
    expect(rows).to_have_count(30)
    expect(maintainer).to_have_url(re.compile(r"/issues$"))
    expect(maintainer.get_by_test_id("load-more")).to_have_count(0)

    maintainer.get_by_role("combobox", name="Severity").select_option("CRITICAL")
    expect(maintainer).to_have_url(re.compile(r"severity=CRITICAL"))
    expect(rows).to_have_count(15)
    maintainer.get_by_role("searchbox", name="Search").fill("report 7")
    maintainer.get_by_role("searchbox", name="Search").press("Enter")
    expect(maintainer).to_have_url(re.compile(r"q=report\+7"))
    expect(rows.first).to_contain_text("Crash report 7")
    expect(rows.first.locator("mark").first).to_be_visible()
