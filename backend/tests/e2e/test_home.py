from __future__ import annotations

import urllib.request

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Stack, make_user, signed_in


def test_home_page_is_server_rendered_with_api_health(stack: Stack) -> None:
    with urllib.request.urlopen(f"{stack.web_url}/") as resp:  # noqa: S310
        html = resp.read().decode()
    assert resp.status == 200
    assert 'data-testid="api-status"' in html  # rendered on the server, before any script runs


def test_home_page_loads_in_chromium_through_the_stack(page: Page) -> None:
    page.goto("/")
    status = page.get_by_test_id("api-status")
    expect(status).to_contain_text("ok")
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()


def test_api_is_reachable_through_the_web_origin(stack: Stack) -> None:
    with urllib.request.urlopen(f"{stack.web_url}/api/healthz") as resp:  # noqa: S310
        assert resp.status == 200
        assert resp.headers["x-request-id"]


def test_a_signed_in_person_going_home_lands_on_the_issues(stack: Stack, browser: Browser) -> None:
    mia = make_user(stack, "home@example.com", "MAINTAINER", "Mia Home")
    ctx = signed_in(browser, stack, mia)
    try:
        page = ctx.new_page()
        page.goto("/")
        expect(page).to_have_url(f"{stack.web_url}/issues")
        expect(page.get_by_role("heading", name="Issues", exact=True)).to_be_visible()
        expect(page.get_by_role("link", name="Create an account")).to_have_count(0)
    finally:
        ctx.close()
