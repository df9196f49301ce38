"""The uploader tells the truth about the limits an operator configured: pages read them from the
API, so with MAX_UPLOAD_BYTES and MAX_ATTACHMENTS_PER_ISSUE changed, the browser checks files
against those (not a copy of the defaults) before sending anything."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Stack, make_user, png_bytes, serve, signed_in
from tests.sessions import signed_in_token

MAX_BYTES = 64 * 1024  # "64 KB"
MAX_FILES = 3


@pytest.fixture(scope="module")
def configured(stack: Stack) -> Iterator[Stack]:
    """Another API and web server on the same database, with the operator's limits."""
    logs = Path(tempfile.mkdtemp(prefix="tracker-e2e-limits-"))
    env = {
        **stack.env,
        "MAX_UPLOAD_BYTES": str(MAX_BYTES),
        "MAX_ATTACHMENTS_PER_ISSUE": str(MAX_FILES),
    }
    try:
        with serve(env, logs) as (api_url, web_url, served_env):
            yield dataclasses.replace(stack, web_url=web_url, api_url=api_url, env=served_env)
    finally:
        shutil.rmtree(logs, ignore_errors=True)


def _choose(page: Page, *files: tuple[str, bytes]) -> None:
    page.get_by_test_id("attachment-dropzone").locator("input[type=file]").set_input_files(
        [{"name": name, "mimeType": "text/plain", "buffer": body} for name, body in files]
    )


def _interactive(page: Page) -> None:
    page.wait_for_function("() => document.readyState === 'complete'")
    expect(page.get_by_role("button", name="Upload", exact=True)).to_have_count(0)


def test_the_new_issue_form_checks_files_against_the_configured_limits(
    browser: Browser, configured: Stack
) -> None:
    reporter = make_user(configured, "rae@example.com", "REPORTER", "Rae Reporter")
    context = signed_in(browser, configured, reporter)
    try:
        page = context.new_page()
        page.goto("/issues/new")
        _interactive(page)
        expect(page.get_by_test_id("attachment-dropzone")).to_contain_text("up to 64 KB each")

        _choose(page, ("trace.log", b"x" * (MAX_BYTES + 1)))
        refused = page.get_by_test_id("upload-entry").filter(has_text="trace.log")
        expect(refused).to_have_attribute("data-status", "error")
        expect(refused).to_contain_text("files can be at most 64 KB")

        _choose(page, *[(f"part{n}.txt", b"ok") for n in range(1, MAX_FILES + 2)])
        expect(page.get_by_test_id("upload-entry").filter(has_text="part3.txt")).to_have_attribute(
            "data-status", "ready"
        )
        fourth = page.get_by_test_id("upload-entry").filter(has_text="part4.txt")
        expect(fourth).to_have_attribute("data-status", "error")
        expect(fourth).to_contain_text(f"an issue can have at most {MAX_FILES} files")
    finally:
        context.close()


def test_the_issue_page_counts_what_is_left_under_the_configured_limits(
    browser: Browser, configured: Stack
) -> None:
    reporter = make_user(configured, "rae@example.com", "REPORTER", "Rae Reporter")
    token = signed_in_token(configured.env["SECRET_KEY"], configured.database_url, reporter)
    with httpx.Client(
        base_url=configured.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=20
    ) as api:
        issue_id = api.post("/api/issues", json={"title": "Receipt totals are off"}).json()["id"]
        for n in range(MAX_FILES - 1):
            api.post(
                f"/api/issues/{issue_id}/attachments",
                files={"file": (f"shot{n}.png", png_bytes(), "image/png")},
            ).raise_for_status()

    context = signed_in(browser, configured, reporter)
    try:
        page = context.new_page()
        page.goto(f"/issues/{issue_id}")
        _interactive(page)
        hint = page.get_by_test_id("attachment-dropzone")
        expect(hint).to_contain_text("up to 64 KB each")
        expect(hint).to_contain_text("1 more file allowed")

        _choose(page, ("big.log", b"y" * (MAX_BYTES + 1)))
        refused = page.get_by_test_id("upload-entry").filter(has_text="big.log")
        # Refused in the browser: never sent.
        expect(refused).to_have_attribute("data-status", "error")
        expect(refused).to_contain_text("files can be at most 64 KB")
    finally:
        context.close()
