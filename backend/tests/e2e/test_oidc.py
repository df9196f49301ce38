"""Signing in with the external OpenID provider, the whole way round in a real browser: the web's
button, the provider's consent page, the API's callback, the web's /auth/callback, and back."""

from __future__ import annotations

import re

import httpx
import psycopg
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import OIDC_PROVIDER_NAME, Stack
from tracker.localdb import to_libpq

# The provider's toolkit announces its own future deprecations while it serves.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ADA = {"email": "ada@example.com", "email_verified": True, "name": "Ada Lovelace"}


@pytest.fixture
def ada(stack: Stack) -> str:
    """A person known to the provider, with a verified e-mail; returns their subject."""
    httpx.put(f"{stack.oidc_issuer}/users/ada-sub", json=ADA, timeout=5).raise_for_status()
    return "ada-sub"


def _to_provider(page: Page, stack: Stack) -> None:
    page.goto("/auth/signin")
    page.get_by_role("link", name=f"Sign in with {OIDC_PROVIDER_NAME}").click()
    expect(page).to_have_url(re.compile(rf"^{re.escape(stack.oidc_issuer)}/oauth2/authorize\?"))


def _consent_as(page: Page, sub: str) -> None:
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def _account_id(page: Page) -> int:
    # The page's own origin, with the browser's cookies: what the signed-in web app sees.
    resp = page.request.get("/api/users/me")
    assert resp.ok, resp.text()
    return int(resp.json()["id"])


def test_sign_in_with_the_provider_lands_signed_in_with_tokens_out_of_reach(
    page: Page, stack: Stack, ada: str
) -> None:
    _to_provider(page, stack)
    _consent_as(page, ada)

    # Back on the web app, signed in under the name the provider gave, on the issue list.
    expect(page.get_by_label("Account menu for Ada Lovelace")).to_be_visible()
    expect(page).to_have_url(f"{stack.web_url}/issues")

    cookies = {c["name"]: c for c in page.context.cookies()}
    access, refresh = cookies["tracker_access"], cookies["tracker_refresh"]
    assert access["httpOnly"] and refresh["httpOnly"]
    assert access["sameSite"] == refresh["sameSite"] == "Lax"
    # The sign-in in flight (verifier and state) is not left behind.
    assert "tracker_oauth_flow" not in cookies
    script_view = page.evaluate("document.cookie")
    assert "tracker_" not in script_view
    html = page.content()
    assert access["value"] not in html and refresh["value"] not in html
    first = _account_id(page)

    page.get_by_label("Account menu for Ada Lovelace").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("banner").get_by_role("link", name="Sign in")).to_be_visible()

    # The same person signing in again reaches the same account, not a second one.
    _to_provider(page, stack)
    _consent_as(page, ada)
    expect(page.get_by_label("Account menu for Ada Lovelace")).to_be_visible()
    assert _account_id(page) == first
    with psycopg.connect(to_libpq(stack.database_url)) as conn:
        accounts = conn.execute(
            "SELECT count(*) FROM users WHERE email = %s", (ADA["email"],)
        ).fetchone()
        links = conn.execute("SELECT count(*) FROM external_identities").fetchone()
    assert (accounts, links) == ((1,), (1,))


def _signed_out_on_the_sign_in_page(page: Page, stack: Stack, message: str) -> None:
    expect(page).to_have_url(re.compile(rf"^{re.escape(stack.web_url)}/auth/signin\?error="))
    expect(page.get_by_role("main").get_by_role("alert")).to_have_text(message)
    expect(page.get_by_role("link", name=f"Sign in with {OIDC_PROVIDER_NAME}")).to_be_visible()
    names = {c["name"] for c in page.context.cookies()}
    assert not names & {"tracker_access", "tracker_refresh", "tracker_oauth_flow"}


def test_declining_at_the_provider_ends_on_the_sign_in_page_with_an_explanation(
    page: Page, stack: Stack
) -> None:
    _to_provider(page, stack)
    # This provider leaves the state out of its refusal, as a replayed or expired callback would
    # be: the sign-in cannot be identified, so it is reported as one to start again.
    page.get_by_role("button", name="Deny").click()
    _signed_out_on_the_sign_in_page(
        page, stack, "That sign-in link expired or was already used. Please try again."
    )


def test_an_account_without_a_verified_email_is_refused_on_the_sign_in_page(
    page: Page, stack: Stack
) -> None:
    httpx.put(
        f"{stack.oidc_issuer}/users/eve-sub",
        json={"email": "eve@example.com", "email_verified": False},
        timeout=5,
    ).raise_for_status()
    _to_provider(page, stack)
    _consent_as(page, "eve-sub")
    _signed_out_on_the_sign_in_page(
        page, stack, "Signing in with your external account did not work."
    )
    with psycopg.connect(to_libpq(stack.database_url)) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (0,)
