"""Accounts in the browser: sign up, sign in, protected pages, sign out, admin, no readable token."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Stack

PASSWORD = "a sturdy passphrase 42"


@pytest.fixture(autouse=True)
def _isolate() -> Iterator[None]:
    # The API tests' async autouse clean-up cannot run beside Playwright's sync event loop; these
    # tests use the stack's own database, which e2e/conftest.py's _clean_database empties.
    yield


def _sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _sign_out(page: Page) -> None:
    page.get_by_label(re.compile("Account menu")).click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def test_sign_up_sign_in_and_out_with_no_token_readable_by_scripts(page: Page) -> None:
    page.goto("/auth/signup")
    page.get_by_label("Full name").fill("Rita Reporter")
    page.get_by_label("E-mail address").fill("rita@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()

    # Signed in straight away, as a reporter, with no Admin entry.
    menu = page.get_by_label("Account menu for Rita Reporter")
    expect(menu).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    assert page.evaluate("document.cookie").find("tracker_") == -1

    _sign_out(page)

    page.goto("/auth/signin")
    _sign_in(page, "rita@example.com", "wrong password here")
    expect(page.get_by_test_id("signin-error")).to_contain_text("do not match")

    _sign_in(page, "rita@example.com")
    expect(menu).to_be_visible()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["tracker_access"]["httpOnly"] and cookies["tracker_refresh"]["httpOnly"]
    assert cookies["tracker_access"]["sameSite"] == "Lax"
    script_view = page.evaluate("document.cookie")
    assert "tracker_access" not in script_view and "tracker_refresh" not in script_view
    assert cookies["tracker_access"]["value"] not in script_view

    menu.click()
    expect(page.get_by_text("Reporter", exact=True)).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()
    names = {c["name"] for c in page.context.cookies()}
    assert not names & {"tracker_access", "tracker_refresh"}


def test_signup_explains_what_is_wrong(page: Page, stack: Stack) -> None:
    stack.tracker(
        "users",
        "create",
        "--email",
        "taken@example.com",
        "--password",
        PASSWORD,
        "--role",
        "REPORTER",
    )
    page.goto("/auth/signup")
    page.get_by_label("Full name").fill("Tess")
    page.get_by_label("E-mail address").fill("taken@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("already exists")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in instead")).to_be_visible()

    page.get_by_label("E-mail address").fill("tess@example.com")
    page.get_by_label("Password").fill("aaaaaaaaaaaa")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Password is too repetitive")).to_be_visible()


def test_protected_page_sends_to_sign_in_and_back(page: Page, stack: Stack) -> None:
    stack.tracker(
        "users", "create", "--email", "ada@example.com", "--password", PASSWORD, "--role", "ADMIN"
    )
    page.goto("/admin/users?q=ada")
    expect(page).to_have_url(re.compile(r"/auth/signin\?redirectTo=%2Fadmin%2Fusers%3Fq%3Dada$"))
    expect(page.get_by_text("Sign in to continue")).to_be_visible()

    _sign_in(page, "ada@example.com")

    expect(page).to_have_url(re.compile(r"/admin/users\?q=ada$"))
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.get_by_role("link", name="Admin")).to_be_visible()


def test_open_redirects_are_ignored(page: Page, stack: Stack) -> None:
    stack.tracker(
        "users",
        "create",
        "--email",
        "olly@example.com",
        "--password",
        PASSWORD,
        "--role",
        "REPORTER",
    )
    page.goto("/auth/signin?redirectTo=//evil.example.com/x")
    _sign_in(page, "olly@example.com")
    expect(page.get_by_label(re.compile("Account menu"))).to_be_visible()
    assert page.url.startswith(stack.web_url)


def test_admin_changes_a_role_with_confirmation(page: Page, stack: Stack) -> None:
    stack.tracker(
        "users", "create", "--email", "root@example.com", "--password", PASSWORD, "--role", "ADMIN"
    )
    stack.tracker(
        "users",
        "create",
        "--email",
        "max@example.com",
        "--password",
        PASSWORD,
        "--role",
        "REPORTER",
    )
    page.goto("/auth/signin?redirectTo=/admin/users")
    _sign_in(page, "root@example.com")

    row = page.get_by_test_id("user-row").filter(has_text="max@example.com")
    row.get_by_role("combobox").select_option("MAINTAINER")
    row.get_by_role("button", name="Change").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("maintainer")
    dialog.get_by_role("button", name="Make maintainer").click()
    expect(page.get_by_role("status").filter(has_text="now maintainer")).to_be_visible()

    row.get_by_role("button", name="Deactivate").click()
    page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    expect(row).to_contain_text("Deactivated")

    # Your own row offers no way to lock yourself out.
    own = page.get_by_test_id("user-row").filter(has_text="root@example.com")
    expect(own.get_by_role("button")).to_have_count(0)


def test_reporter_is_refused_the_admin_page(page: Page, stack: Stack) -> None:
    stack.tracker(
        "users",
        "create",
        "--email",
        "rob@example.com",
        "--password",
        PASSWORD,
        "--role",
        "REPORTER",
    )
    page.goto("/auth/signin")
    _sign_in(page, "rob@example.com")
    expect(page.get_by_label(re.compile("Account menu"))).to_be_visible()
    response = page.goto("/admin/users")
    assert response is not None and response.status == 403
