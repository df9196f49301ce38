"""No gap between a page's data and its live updates.

A page reads the live feed's position before its data and subscribes from there, so a change
committed after the data was read but before the socket subscribed still shows up (without a
reload), and a change the data already has is not applied twice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, WebSocketRoute, expect

from tests.e2e.conftest import (
    MARKER,
    People,
    Stack,
    live_frames,
    row,
    still_same_document,
    wait_until_live,
)

WS = re.compile(r"/api/ws$")


@pytest.fixture
def people(browser: Browser, stack: Stack) -> Iterator[People]:
    p = People(browser, stack)
    yield p
    p.close()


def held_back(page: Page, change: Callable[[], None]) -> list[WebSocketRoute]:
    """Make the page's live socket wait: when the page opens it (its data loaded and rendered),
    `change` is committed first, and only then does the socket reach the server and subscribe."""
    routes: list[WebSocketRoute] = []

    def connect(ws: WebSocketRoute) -> None:
        if not routes:
            change()
        routes.append(ws)
        ws.connect_to_server()

    page.route_web_socket(WS, connect)
    return routes


def mark(page: Page) -> None:
    page.evaluate("marker => { window.__liveMarker = marker; }", MARKER)


def wait_for_socket(page: Page, routes: list[WebSocketRoute]) -> None:
    page.wait_for_function("() => document.readyState === 'complete'")
    deadline = 100
    while not routes and deadline:
        page.wait_for_timeout(50)
        deadline -= 1
    assert routes, "the page never opened its live socket"


def test_the_issue_page_shows_a_change_made_before_it_subscribed(people: People) -> None:
    issue_id = people.file_issue("Totals ignore the discount")
    page = people.reporter.new_page()

    def triage() -> None:
        with people.api(people.maintainer_id) as api:
            api.patch(
                f"/api/issues/{issue_id}", headers={"If-Match": '"1"'}, json={"status": "TRIAGED"}
            ).raise_for_status()
            api.post(
                f"/api/issues/{issue_id}/comments", json={"body": "Confirmed on staging."}
            ).raise_for_status()

    routes = held_back(page, triage)
    page.goto(f"/issues/{issue_id}")
    expect(page.get_by_test_id("issue-status")).to_have_text("Open")
    wait_for_socket(page, routes)
    mark(page)

    expect(page.get_by_test_id("issue-status")).to_have_text("Triaged")
    expect(page.get_by_test_id("comment-body")).to_have_text("Confirmed on staging.")
    expect(page.get_by_test_id("timeline")).to_contain_text(
        "Mia Maintainer moved this from Open to Triaged"
    )
    still_same_document(page)


def test_the_issue_list_shows_a_change_made_before_it_subscribed(people: People) -> None:
    issue_id = people.file_issue("Invoice PDF is blank")
    page = people.maintainer.new_page()

    def change() -> None:
        with people.api(people.maintainer_id) as api:
            api.patch(
                f"/api/issues/{issue_id}",
                headers={"If-Match": '"1"'},
                json={"status": "TRIAGED", "title": "Invoice PDF is blank in Safari"},
            ).raise_for_status()
        people.file_issue("Filed while the list was loading")

    routes = held_back(page, change)
    page.goto("/issues")
    listed = row(page, issue_id)
    expect(listed.get_by_test_id("issue-row-status")).to_have_text("Open")
    wait_for_socket(page, routes)
    mark(page)

    expect(listed.get_by_test_id("issue-row-status")).to_have_text("Triaged")
    expect(listed).to_contain_text("Invoice PDF is blank in Safari")
    expect(page.get_by_test_id("issue-list").locator("li").first).to_contain_text(
        "Filed while the list was loading"
    )
    still_same_document(page)


def test_the_dashboard_counts_an_issue_filed_before_it_subscribed(people: People) -> None:
    people.file_issue("Already there")
    page = people.maintainer.new_page()
    routes = held_back(page, lambda: people.file_issue("Filed while the dashboard loaded"))
    page.goto("/dashboard")
    expect(page.get_by_test_id("kpi-open")).to_contain_text(re.compile(r"not done, of 1\b"))
    wait_for_socket(page, routes)
    mark(page)

    expect(page.get_by_test_id("kpi-open")).to_contain_text(re.compile(r"not done, of 2\b"))
    still_same_document(page)


def older_position(page: Page) -> None:
    """Load pages reached in the app as if their stream position had been read just before the
    newest change in their data, as when that change commits between the position read and the
    data read: the data holds the change, and the subscription replays it."""

    def rewrite(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        for node in body.get("nodes", []):
            values = node.get("data") if isinstance(node, dict) else None
            if not values or not isinstance(values[0], dict) or "position" not in values[0]:
                continue
            # Compact devalue: fields point at values; point `position` at a new, lower one.
            values.append(values[values[0]["position"]] - 1)
            values[0]["position"] = len(values) - 1
        route.fulfill(response=response, body=json.dumps(body))

    page.route(lambda url: "/__data.json" in url, rewrite)


def comment(people: People, issue_id: int, body: str) -> None:
    with people.api(people.maintainer_id) as api:
        api.post(f"/api/issues/{issue_id}/comments", json={"body": body}).raise_for_status()


def test_a_replayed_change_the_page_already_shows_is_not_applied_twice(people: People) -> None:
    issue_id = people.file_issue("Search is slow")
    comment(people, issue_id, "Takes 4 s here.")

    # Each page is reached from another one inside the app, so its data comes as JSON.
    list_page = people.maintainer.new_page()
    frames = live_frames(list_page)
    older_position(list_page)
    list_page.goto(f"/issues/{issue_id}")
    expect(list_page.get_by_test_id("comment-body")).to_have_count(1)
    wait_until_live(list_page, frames)
    list_page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name="Issues"
    ).click()
    listed = row(list_page, issue_id)
    expect(listed.get_by_title("1 comments")).to_be_visible()

    issue_page = people.maintainer.new_page()
    issue_frames = live_frames(issue_page)
    older_position(issue_page)
    issue_page.goto("/issues")
    wait_until_live(issue_page, issue_frames)
    row(issue_page, issue_id).get_by_role("link").click()
    expect(issue_page.get_by_test_id("comment-body")).to_have_count(1)

    # The subscription replayed the comment ...
    def replayed() -> bool:
        return any('"kind":"comment.created"' in f.replace(" ", "") for f in frames)

    for _ in range(100):
        if replayed():
            break
        list_page.wait_for_timeout(50)
    assert replayed(), frames
    mark(list_page)
    list_page.wait_for_timeout(500)  # the page's reaction to the replay has settled
    # ... which the rows already had: nothing counted twice, nothing listed twice.
    expect(listed.get_by_title("1 comments")).to_be_visible()
    expect(list_page.get_by_test_id("issue-list").locator("li")).to_have_count(1)
    expect(issue_page.get_by_test_id("comment-body")).to_have_count(1)

    # Live changes after it still apply once each.
    comment(people, issue_id, "Down to 1 s with the new index.")
    expect(listed.get_by_title("2 comments")).to_be_visible()
    expect(issue_page.get_by_test_id("comment-body")).to_have_count(2)
    still_same_document(list_page)
