"""Notifications in real browsers: what someone does on an issue reaches the people it concerns
at once — the bell counts it without a reload, the inbox lists it, opening it reads it — and
people choose how they are told, what they watch, and whom they mention."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import (
    MARKER,
    People,
    Stack,
    make_user,
    signed_in,
    still_same_document,
)


@pytest.fixture
def people(browser: Browser, stack: Stack) -> Iterator[People]:
    p = People(browser, stack)
    yield p
    p.close()


def open_subscribed(context: BrowserContext, path: str) -> Page:
    """Open `path` and wait until its socket follows the inbox (so nothing done after this
    returns can be missed), then set a marker that a reload would lose."""
    page = context.new_page()
    frames: list[str] = []

    def on_socket(ws: Any) -> None:
        ws.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    page.goto(path)
    wanted = '"type":"subscribed","channel":"notifications"'
    deadline = time.monotonic() + 10
    while not any(wanted in f.replace(" ", "") for f in frames):
        assert time.monotonic() < deadline, f"never subscribed to notifications: {frames}"
        page.wait_for_timeout(50)
    page.evaluate("marker => { window.__liveMarker = marker; }", MARKER)
    return page


def comment(page: Page, issue_id: int, body: str) -> None:
    """Comment on the issue through its page, and wait until the comment is saved."""
    if not page.url.endswith(f"/issues/{issue_id}"):
        page.goto(f"/issues/{issue_id}")
    page.get_by_role("textbox", name="Comment", exact=True).fill(body)
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.get_by_test_id("comment-body").filter(has_text=body)).to_have_count(1)


def comment_by_api(people: People, user_id: int, issue_id: int, body: str) -> None:
    with people.api(user_id) as api:
        api.post(f"/api/issues/{issue_id}/comments", json={"body": body}).raise_for_status()


def bell(page: Page) -> Any:
    return page.get_by_test_id("notification-bell")


def test_a_mention_rings_the_reporters_bell_live_and_opening_it_reads_it(
    people: People,
) -> None:
    issue_id = people.file_issue("Checkout button does nothing")
    reporter = open_subscribed(people.reporter, "/issues")
    expect(bell(reporter)).to_have_accessible_name("Notifications")
    expect(bell(reporter).get_by_test_id("unread-count")).to_have_count(0)

    maintainer = people.maintainer.new_page()
    comment(maintainer, issue_id, "@rae reproduced on Safari 17.")

    # The reporter is mentioned on their own issue: one notification, counted with no reload.
    expect(bell(reporter).get_by_test_id("unread-count")).to_have_text("1", timeout=2000)
    expect(bell(reporter)).to_have_accessible_name("Notifications, 1 unread")
    still_same_document(reporter)

    bell(reporter).click()
    expect(reporter).to_have_url(re.compile(r"/inbox$"))
    row = reporter.get_by_test_id("notification")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-unread", "true")
    expect(row.get_by_test_id("notification-summary")).to_have_text(
        f"Mia Maintainer mentioned you on #{issue_id} Checkout button does nothing"
    )
    expect(row.get_by_test_id("notification-issue")).to_have_text("Checkout button does nothing")
    expect(row).to_contain_text("Mentioned")
    expect(reporter.get_by_test_id("inbox-unread")).to_have_text("1 unread")

    # Opening it goes to the issue and reads it: the bell empties.
    row.get_by_test_id("open-notification").click()
    expect(reporter).to_have_url(re.compile(rf"/issues/{issue_id}$"))
    expect(reporter.get_by_test_id("comment-body")).to_have_text("@rae reproduced on Safari 17.")
    expect(bell(reporter).get_by_test_id("unread-count")).to_have_count(0)
    expect(bell(reporter)).to_have_accessible_name("Notifications")

    bell(reporter).click()
    expect(reporter.get_by_test_id("notification")).to_have_attribute("data-unread", "false")
    expect(reporter.get_by_test_id("inbox-unread")).to_have_text("You are all caught up.")
    still_same_document(reporter)


def test_mentions_are_suggested_and_mark_all_read_empties_the_inbox(people: People) -> None:
    first = people.file_issue("Invoice PDF is blank")
    second = people.file_issue("Export times out")
    reporter = open_subscribed(people.reporter, "/inbox")
    expect(reporter.get_by_test_id("inbox-empty")).to_contain_text("Nothing here yet")

    # Typing @ and the start of a name suggests who may see the issue; Enter inserts the handle.
    maintainer = people.maintainer.new_page()
    maintainer.goto(f"/issues/{first}")
    # A textbox, and a combobox while it suggests: found by what it is either way.
    box = maintainer.locator("textarea[name=body]")
    box.click()
    box.press_sequentially("Thanks @ra")
    suggestions = maintainer.get_by_role("listbox", name="People to mention")
    option = suggestions.get_by_role("option", name=re.compile("Rae Reporter"))
    expect(option).to_be_visible()
    expect(option).to_contain_text("@rae")
    expect(option).to_have_attribute("aria-selected", "true")
    combobox = maintainer.get_by_role("combobox", name="Comment", exact=True)
    expect(combobox).to_have_attribute("aria-activedescendant", option.get_attribute("id") or "")
    box.press("Enter")
    expect(suggestions).to_have_count(0)
    expect(box).to_have_value("Thanks @rae ")
    box.press_sequentially("which browser was it?")
    # Escape closes the suggestions and leaves the text alone.
    box.press_sequentially(" cc @mi")
    expect(suggestions.get_by_role("option")).to_have_count(1)
    box.press("Escape")
    expect(suggestions).to_have_count(0)
    expect(box).to_have_value("Thanks @rae which browser was it? cc @mi")
    maintainer.get_by_role("button", name="Comment", exact=True).click()
    body = maintainer.get_by_test_id("comment-body")
    expect(body).to_contain_text("Thanks @rae which browser was it?")
    expect(body.get_by_role("link", name="@rae")).to_have_attribute("href", "/people/rae")

    comment(maintainer, second, "Looking into it.")
    expect(bell(reporter).get_by_test_id("unread-count")).to_have_text("2", timeout=2000)
    # The open inbox lists them as they arrive, newest first; a mention says so.
    rows = reporter.get_by_test_id("notification")
    expect(rows).to_have_count(2)
    expect(rows.first.get_by_test_id("notification-issue")).to_have_text("Export times out")
    expect(rows.last.get_by_test_id("notification-summary")).to_have_text(
        f"Mia Maintainer mentioned you on #{first} Invoice PDF is blank"
    )
    expect(rows.last).to_contain_text("Mentioned")

    reporter.get_by_role("link", name=re.compile(r"^Unread")).click()
    expect(reporter).to_have_url(re.compile(r"/inbox\?filter=unread$"))
    expect(rows).to_have_count(2)
    reporter.get_by_role("button", name="Mark all read").click()
    expect(reporter.get_by_test_id("inbox-empty")).to_contain_text("No unread notifications")
    expect(bell(reporter).get_by_test_id("unread-count")).to_have_count(0)
    reporter.get_by_role("link", name="All", exact=True).click()
    expect(rows).to_have_count(2)
    for i in range(2):
        expect(rows.nth(i)).to_have_attribute("data-unread", "false")
    still_same_document(reporter)


def test_watching_decides_who_is_told_about_comments(
    people: People, browser: Browser, stack: Stack
) -> None:
    issue_id = people.file_issue("Dark mode contrast too low")
    other_id = make_user(stack, "max@example.com", "MAINTAINER", "Max Maintainer")
    reporter = open_subscribed(people.reporter, f"/issues/{issue_id}")
    watch = reporter.get_by_test_id("watch-button")
    # Reporters watch what they report; Unwatch is remembered.
    expect(watch).to_have_text("Unwatch")
    watch.click()
    expect(watch).to_have_text("Watch")
    expect(reporter.get_by_test_id("watch-state")).to_contain_text("Not watching")
    reporter.reload()
    expect(watch).to_have_text("Watch")

    # Not watching: a comment tells them nothing, a mention still does.
    comment_by_api(people, other_id, issue_id, "Contrast ratio is 3.1:1 here.")
    comment_by_api(people, people.maintainer_id, issue_id, "@rae which theme do you use?")
    badge = bell(reporter).get_by_test_id("unread-count")
    expect(badge).to_have_text("1", timeout=5000)
    reporter.goto("/inbox")
    expect(reporter.get_by_test_id("notification")).to_have_count(1)
    expect(reporter.get_by_test_id("notification-summary")).to_contain_text("mentioned you")

    # Watching again: the next comment is counted too.
    reporter.goto(f"/issues/{issue_id}")
    watch.click()
    expect(watch).to_have_text("Unwatch")
    expect(reporter.get_by_test_id("watch-state")).to_contain_text("You are watching")
    comment_by_api(people, other_id, issue_id, "Fixed in the next build.")
    expect(badge).to_have_text("2", timeout=5000)

    # Handles show beside the names the issue page knows.
    sidebar = reporter.get_by_role("complementary", name="Issue details")
    expect(sidebar.get_by_test_id("handle")).to_have_text("@rae")
    expect(
        reporter.get_by_test_id("comment").filter(has_text="Fixed in the next build.")
    ).to_contain_text("Max Maintainer @max")


def test_settings_and_the_inbox_work_without_javascript(
    people: People, browser: Browser, stack: Stack
) -> None:
    issue_id = people.file_issue("Search drops the last character")
    comment_by_api(people, people.maintainer_id, issue_id, "Confirmed.")
    context = signed_in(browser, stack, people.reporter_id, javascript=False)
    try:
        page = context.new_page()
        page.goto("/issues")
        # Rendered on the server: the count is there without a script.
        badge = bell(page).get_by_test_id("unread-count")
        deadline = time.monotonic() + 10
        while badge.count() == 0:
            assert time.monotonic() < deadline, "the worker never told the reporter"
            page.wait_for_timeout(200)
            page.reload()
        expect(badge).to_have_text("1")

        # The settings page is a plain form; this server sends no e-mail, and says so.
        page.get_by_test_id("user-menu").locator("summary").click()
        page.get_by_role("link", name="Notification settings").click()
        expect(page).to_have_url(re.compile(r"/settings/notifications$"))
        expect(page.get_by_test_id("email-disabled")).to_contain_text(
            "This server does not send e-mail yet"
        )
        comments = page.get_by_role("radiogroup", name="Comments")
        expect(comments.get_by_label("In the app")).to_be_checked()
        expect(
            page.get_by_role("radiogroup", name="Mentions").get_by_label("E-mail at once")
        ).to_be_checked()
        comments.get_by_label("Daily digest").check()
        page.get_by_role("radiogroup", name="Status changes").get_by_label("E-mail at once").check()
        page.get_by_role("button", name="Save settings").click()
        saved = page.get_by_role("status").filter(has_text="Your notification settings are saved.")
        expect(saved).to_be_visible()
        page.goto("/settings/notifications")
        expect(comments.get_by_label("Daily digest")).to_be_checked()
        expect(
            page.get_by_role("radiogroup", name="Status changes").get_by_label("E-mail at once")
        ).to_be_checked()

        # The inbox: opening a notification is a form post that reads it and leads to the issue.
        page.goto("/inbox?filter=unread")
        page.get_by_test_id("open-notification").click()
        expect(page).to_have_url(re.compile(rf"/issues/{issue_id}$"))
        expect(bell(page).get_by_test_id("unread-count")).to_have_count(0)
        # Watching is a form post too.
        page.get_by_test_id("watch-button").click()
        expect(page.get_by_test_id("watch-button")).to_have_text("Watch")
        page.goto("/inbox?filter=unread")
        expect(page.get_by_test_id("inbox-empty")).to_contain_text("No unread notifications")
    finally:
        context.close()
