"""A long discussion can be read whole: the issue page reads its comments and history page by
page, never shows a change out of place among comments not read yet, and keeps live updates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import (
    MARKER,
    People,
    Stack,
    live_frames,
    signed_in,
    still_same_document,
    wait_until_live,
)
from tracker.localdb import to_libpq

COMMENTS = 250
TRIAGED_AFTER = 210  # the status change comes between comment 210 and 211


@pytest.fixture
def people(browser: Browser, stack: Stack) -> Iterator[People]:
    p = People(browser, stack)
    yield p
    p.close()


def long_discussion(
    stack: Stack, reporter_id: int, maintainer_id: int, comments: int = COMMENTS
) -> int:
    """An issue two days old with `comments` comments, one a minute, each with its history event
    as the API writes it, and a status change after comment TRIAGED_AFTER if there is one; with
    COMMENTS, more than one page of each."""
    base = datetime.now(UTC) - timedelta(days=2)

    def at(minute: float) -> datetime:
        return base + timedelta(minutes=minute)

    with psycopg.connect(to_libpq(stack.database_url)) as conn:
        issue = conn.execute(
            "INSERT INTO issues (title, severity, status, reporter_id, created_at, updated_at) "
            "VALUES ('Sync loses edits made offline', 'HIGH', 'TRIAGED', %s, %s, %s) "
            "RETURNING id",
            (reporter_id, base, base),
        ).fetchone()
        assert issue is not None
        issue_id = int(issue[0])

        def event(minute: float, kind: str, actor: int, data: dict[str, object]) -> None:
            conn.execute(
                "INSERT INTO issue_events (issue_id, issue_ref, reporter_id, actor_id, kind, data,"
                " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (issue_id, issue_id, reporter_id, actor, kind, json.dumps(data), at(minute)),
            )

        event(0, "issue.created", reporter_id, {"title": "Sync loses edits made offline"})
        for n in range(1, comments + 1):
            author = maintainer_id if n % 2 else reporter_id
            row = conn.execute(
                "INSERT INTO comments (issue_id, author_id, body, body_html, created_at,"
                " updated_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (issue_id, author, f"Note {n}", f"<p>Note {n}</p>", at(n), at(n)),
            ).fetchone()
            assert row is not None
            event(n, "comment.created", author, {"comment_id": int(row[0])})
            if n == TRIAGED_AFTER:
                status = {"changes": {"status": ["OPEN", "TRIAGED"]}}
                event(n + 0.5, "issue.updated", maintainer_id, status)
    return issue_id


def notes(page: Page) -> list[str]:
    return page.get_by_test_id("comment-body").all_inner_texts()


def test_show_more_reads_a_long_discussion_to_its_end_and_it_stays_live(people: People) -> None:
    issue_id = long_discussion(people.stack, people.reporter_id, people.maintainer_id)
    page = people.maintainer.new_page()
    page.goto(f"/issues/{issue_id}")
    page.wait_for_function("() => document.readyState === 'complete'")
    page.evaluate("marker => { window.__liveMarker = marker; }", MARKER)

    # The first page: the oldest part, complete as far as it goes, and what is left said plainly.
    first = notes(page)
    assert first[0] == "Note 1"
    assert 150 < len(first) < COMMENTS
    assert first == [f"Note {n}" for n in range(1, len(first) + 1)]
    more = page.get_by_test_id("history-more")
    expect(more).to_contain_text(f"{COMMENTS - len(first)} more comments")
    expect(page.get_by_test_id("timeline")).not_to_contain_text("moved this from")

    # "Show more" reads on; focus goes to the first entry it added.
    last_before = page.get_by_test_id("comment").nth(len(first) - 1)
    more.get_by_role("link", name="Show more").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('[data-testid=comment-body]').length > {len(first)}"
    )
    focused = page.evaluate("() => document.activeElement?.textContent ?? ''")
    assert f"Note {len(first) + 1}" in focused or "moved this" in focused
    expect(last_before).to_be_visible()

    # ... until everything is there, in order, with the status change in its place.
    for _ in range(5):
        if not page.get_by_test_id("history-more").count():
            break
        page.get_by_test_id("history-more").get_by_role("link", name="Show more").click()
        page.wait_for_timeout(300)
    expect(page.get_by_test_id("history-more")).to_have_count(0)
    assert notes(page) == [f"Note {n}" for n in range(1, COMMENTS + 1)]
    entries = page.locator("[data-timeline-entry]").all_inner_texts()
    change = next(i for i, text in enumerate(entries) if "moved this from Open to Triaged" in text)
    assert f"Note {TRIAGED_AFTER}" in entries[change - 1]
    assert f"Note {TRIAGED_AFTER + 1}" in entries[change + 1]

    # Live updates reach the end of the whole discussion.
    with people.api(people.reporter_id) as api:
        api.post(f"/api/issues/{issue_id}/comments", json={"body": "Still happens on 2.4"})
    expect(page.get_by_test_id("comment-body").last).to_have_text("Still happens on 2.4")
    assert len(notes(page)) == COMMENTS + 1
    still_same_document(page)


def test_a_live_comment_past_the_last_page_read_is_still_shown(people: People) -> None:
    # 199 comments and 200 events: exactly what one page of each holds, so the page is whole.
    issue_id = long_discussion(people.stack, people.reporter_id, people.maintainer_id, 199)
    page = people.maintainer.new_page()
    page.goto(f"/issues/{issue_id}")
    page.wait_for_function("() => document.readyState === 'complete'")
    expect(page.get_by_test_id("history-more")).to_have_count(0)
    assert len(notes(page)) == 199

    # One more comment needs a second page of history: it is read, not left behind "Show more".
    with people.api(people.reporter_id) as api:
        api.post(f"/api/issues/{issue_id}/comments", json={"body": "Comment number 200"})
    expect(page.get_by_test_id("comment-body").last).to_have_text("Comment number 200")
    expect(page.get_by_test_id("history-more")).to_have_count(0)


def test_a_comment_posted_below_an_unread_history_is_shown_in_place(people: People) -> None:
    issue_id = long_discussion(people.stack, people.reporter_id, people.maintainer_id)
    page = people.reporter.new_page()
    frames = live_frames(page)
    page.goto(f"/issues/{issue_id}")
    wait_until_live(page, frames)  # the form posts in place, not as a new document
    expect(page.get_by_test_id("history-more")).to_be_visible()

    page.get_by_role("textbox", name="Comment", exact=True).fill("Any news?")
    page.get_by_role("button", name="Comment", exact=True).click()
    expect(page.get_by_test_id("comment-body").last).to_have_text("Any news?")
    expect(page.get_by_test_id("comment-body").last).to_be_in_viewport()
    expect(page.get_by_test_id("history-more")).to_have_count(0)
    assert len(notes(page)) == COMMENTS + 1


def test_without_javascript_the_whole_history_is_a_link_away(
    browser: Browser, people: People
) -> None:
    issue_id = long_discussion(people.stack, people.reporter_id, people.maintainer_id)
    context = signed_in(browser, people.stack, people.maintainer_id, javascript=False)
    try:
        page = context.new_page()
        page.goto(f"/issues/{issue_id}")
        assert len(notes(page)) < COMMENTS
        with page.expect_navigation():
            page.get_by_test_id("history-more").get_by_role("link", name="Show all").click()
        assert notes(page) == [f"Note {n}" for n in range(1, COMMENTS + 1)]
        expect(page.get_by_test_id("history-more")).to_have_count(0)
    finally:
        context.close()
