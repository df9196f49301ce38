"""Hostile Markdown comes back neutralised as HTML, with the source kept exactly as written."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

import httpx
import pytest

from tests.conftest import UserFactory
from tracker.auth.models import User
from tracker.markdown import render_markdown, sanitize_html
from tracker.roles import Role

Auth = Callable[[User], dict[str, str]]

PAYLOADS = [
    "<script>alert('x')</script>",
    "[click me](javascript:alert(1))",
    "[click me](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<img src=x onerror=alert(1)>",
    '![x](x" onerror="alert(1))',
    "<svg onload=alert(1)><circle r=10 /></svg>",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pixel](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "<iframe src='https://example.com'></iframe>",
    '<div style="background:url(javascript:alert(1))">x</div>',
]
SAFE_TAGS = {
    "p", "a", "img", "br", "code", "pre", "em", "strong", "s",
    "h1", "h2", "ul", "ol", "li", "blockquote",
}  # fmt: skip


class _Elements(HTMLParser):
    """The elements and attributes a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def assert_safe(html: str) -> None:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.found:
        assert tag in SAFE_TAGS, html
        for name, value in attrs:
            assert not name.startswith("on"), html
            assert name not in ("style", "class", "srcdoc", "formaction"), html
            if name in ("href", "src"):
                scheme = (value or "").strip().lower().split(":", 1)
                assert len(scheme) == 1 or scheme[0] in ("http", "https", "mailto"), html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_rendered_payloads_are_inert(payload: str) -> None:
    assert_safe(render_markdown(payload))


def test_raw_html_that_slips_through_is_cleaned() -> None:
    dirty = (
        '<svg onload="x"></svg><a href="javascript:x" onclick="x">k</a>'
        '<img src="data:image/png;base64,AA" onerror="x"><p class="evil" style="color:red">t</p>'
    )
    clean = sanitize_html(dirty)
    assert_safe(clean)
    assert clean == '<a rel="nofollow noopener noreferrer">k</a><img><p>t</p>'


def test_links_are_marked_nofollow() -> None:
    html = render_markdown("see [docs](https://example.com/docs)")
    assert '<a href="https://example.com/docs" rel="nofollow noopener noreferrer">docs</a>' in html


async def test_payloads_in_description_and_comments_through_the_api(
    client: httpx.AsyncClient, make_user: UserFactory, auth: Auth
) -> None:
    reporter = await make_user(Role.REPORTER)
    source = "\n\n".join(PAYLOADS)
    resp = await client.post(
        "/api/issues",
        json={"title": "<script>alert(1)</script>", "description": source},
        headers=auth(reporter),
    )
    assert resp.status_code == 201
    issue = resp.json()
    got = (await client.get(f"/api/issues/{issue['id']}", headers=auth(reporter))).json()
    assert got["description"] == source
    assert got["title"] == "<script>alert(1)</script>"
    assert_safe(got["description_html"])
    assert "&lt;script&gt;" in got["description_html"]

    for payload in PAYLOADS:
        posted = await client.post(
            f"/api/issues/{issue['id']}/comments", json={"body": payload}, headers=auth(reporter)
        )
        assert posted.status_code == 201
        assert posted.json()["body"] == payload
        assert_safe(posted.json()["body_html"])
    thread = (
        await client.get(f"/api/issues/{issue['id']}/comments", headers=auth(reporter))
    ).json()["items"]
    assert [c["body"] for c in thread] == PAYLOADS
    for comment in thread:
        assert_safe(comment["body_html"])

    edited = await client.patch(
        f"/api/comments/{thread[0]['id']}",
        json={"body": "<img src=x onerror=alert(2)>"},
        headers=auth(reporter),
    )
    assert edited.json()["body"] == "<img src=x onerror=alert(2)>"
    assert_safe(edited.json()["body_html"])


@pytest.mark.parametrize(
    "unsafe",
    [
        '<a href="javascript:alert(1)">x</a>',
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)></svg>",
        '<img src="data:image/png;base64,AA">',
    ],
)
def test_the_safety_check_itself_catches_live_markup(unsafe: str) -> None:
    with pytest.raises(AssertionError):
        assert_safe(unsafe)


def test_tables_code_and_alignment_survive_cleaning() -> None:
    html = render_markdown("| a | b |\n|:-|-:|\n| 1 | 2 |\n\n```python\nprint(1)\n```")
    assert '<th style="text-align:left">a</th>' in html
    assert '<td style="text-align:right">2</td>' in html
    assert '<code class="language-python">print(1)\n</code>' in html


def test_only_known_classes_and_styles_are_kept() -> None:
    cleaned = sanitize_html(
        '<code class="language-x y">a</code><code class="evil">b</code>'
        '<table><tr><td style="position:fixed">c</td></tr></table>'
    )
    assert (
        cleaned == "<code>a</code><code>b</code><table><tbody><tr><td>c</td></tr></tbody></table>"
    )
    assert render_markdown("   \n") == ""
