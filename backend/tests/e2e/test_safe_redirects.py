"""Forms that send the browser back somewhere (the theme switch, sign-in) only ever send it to a
page of this tracker: a crafted link cannot make them open redirects. Posted as a browser without
JavaScript posts them."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from tests.e2e.conftest import Stack

# What browsers (or a router that decodes the path) would take to another site.
ELSEWHERE = [
    "/\\evil.example.com",
    "/\\/evil.example.com",
    "//evil.example.com",
    "/%2F%2Fevil.example.com",
    "/%2f/evil.example.com",
    "/%5Cevil.example.com",
    "https://evil.example.com/",
    "http:evil.example.com",
    "javascript:alert(1)",
    "/\t/evil.example.com",
    "/\r\n/evil.example.com",
    "/\x00/evil.example.com",
    "evil.example.com",
]
# Pages of this tracker come back as they were asked for.
HERE = ["/issues?status=OPEN&q=pay%20button", "/dashboard", "/issues/12#comments"]


def _switch_theme(web: httpx.Client, stack: Stack, back: str) -> httpx.Response:
    return web.post(
        "/theme",
        data={"theme": "dark", "redirectTo": back},
        headers={"Origin": stack.web_url},
    )


@pytest.mark.parametrize("target", ELSEWHERE)
def test_the_theme_switch_never_sends_the_browser_to_another_site(
    stack: Stack, target: str
) -> None:
    with httpx.Client(base_url=stack.web_url, follow_redirects=False, timeout=15) as web:
        resp = _switch_theme(web, stack, target)
    assert resp.status_code == 303
    assert resp.headers["location"] == "/"
    assert resp.cookies.get("theme") == "dark"


def test_the_theme_switch_goes_back_to_the_page_it_was_on(stack: Stack) -> None:
    with httpx.Client(base_url=stack.web_url, follow_redirects=False, timeout=15) as web:
        for target in [*HERE, "/auth/signin?redirectTo=%2Fissues"]:
            resp = _switch_theme(web, stack, target)
            assert resp.status_code == 303
            assert resp.headers["location"] == target


@pytest.mark.parametrize("target", ELSEWHERE)
def test_sign_in_forgets_a_destination_on_another_site(stack: Stack, target: str) -> None:
    with httpx.Client(base_url=stack.web_url, timeout=15) as web:
        page = web.get("/auth/signin", params={"redirectTo": target})
    assert page.status_code == 200
    # The sign-in form (not the theme switch beside it) would lead nowhere but the default page.
    [form] = [
        body
        for attributes, body in re.findall(r"<form\b([^>]*)>(.*?)</form>", page.text, re.S)
        if 'action="/theme"' not in attributes and 'name="redirectTo"' in body
    ]
    kept = re.search(r'name="redirectTo" value="([^"]*)"', form)
    assert kept is not None
    assert kept.group(1) == ""


def test_sign_in_keeps_a_destination_on_this_tracker(stack: Stack) -> None:
    with httpx.Client(base_url=stack.web_url, timeout=15) as web:
        for target in HERE:
            page = web.get("/auth/signin", params={"redirectTo": target})
            assert f'name="redirectTo" value="{html.escape(target)}"' in page.text
