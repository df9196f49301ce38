"""@handles in Markdown: linked in the sanitised HTML, read back for notifications, and never
found in code, links or e-mail addresses."""

from __future__ import annotations

import re

import pytest

from tracker.markdown import mentioned_handles, render_markdown


def test_a_mention_is_a_link_to_the_person_whether_or_not_the_handle_exists() -> None:
    html = render_markdown("Thanks @rita, and @nobody-here too")
    assert '<a href="/people/rita" class="mention"' in html
    assert '<a href="/people/nobody-here" class="mention"' in html
    assert ">@rita</a>, and " in html


@pytest.mark.parametrize(
    "source",
    [
        "write to rita@example.com",
        "`@rita` in code",
        "```\n@rita\n```",
        "[@rita](https://example.com)",
        "a path /home/@rita",
        "@r",
        "@" + "r" * 40,
    ],
)
def test_what_is_not_a_mention(source: str) -> None:
    assert mentioned_handles(source) == set()
    assert 'class="mention"' not in render_markdown(source)


def test_mentions_are_read_as_they_are_linked() -> None:
    source = "@Rita (and @max_2.) cc: @ops-team, @rita again\n\n> quoting @quinn"
    assert mentioned_handles(source) == {"rita", "max_2", "ops-team", "quinn"}
    html = render_markdown(source)
    assert html.count('class="mention"') == 5
    assert (
        '<a href="/people/rita" class="mention" rel="nofollow noopener noreferrer">@Rita</a>'
        in html
    )


def test_only_the_renderer_can_make_a_mention_link() -> None:
    # Markdown links may point anywhere safe, but never carry the mention class.
    html = render_markdown('[me](/people/rita "t") <a class="mention" href="/x">x</a>')
    assert re.search(r"<a [^>]*mention", html) is None
    assert "&lt;a class=" in html  # the typed tag stays text
