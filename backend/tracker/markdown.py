"""Markdown to safe HTML, for issue descriptions, comments and the editor's preview.

Two layers: markdown-it renders with raw HTML disabled (so `<script>` in the source is text),
then nh3 cleans the result against a strict allow-list — tags, attributes and URL schemes — so
nothing the parser lets through by accident (a `javascript:` link, an inline SVG, an event
handler) reaches a browser. Links are marked `nofollow noopener noreferrer`.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

from tracker.offload import MARKDOWN_RENDERING

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
        "strong", "em", "del", "s", "code", "pre", "blockquote",
        "ul", "ol", "li", "a", "img",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
    "code": {"class"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"
# Fenced code keeps its language as a class (for styling); nothing else may set classes.
_CODE_CLASS_PREFIX = "language-"


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    )


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        if tag == "code" and value.startswith(_CODE_CLASS_PREFIX) and value[9:].isalnum():
            return value
        return None
    if attribute == "style":
        # Table alignment is the only style markdown-it writes.
        if value in ("text-align:left", "text-align:center", "text-align:right"):
            return value
        return None
    return value


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
        attribute_filter=_attribute_filter,
    )


def render_markdown(source: str) -> str:
    """Safe HTML for a Markdown source; the empty string for an empty source."""
    if not source.strip():
        return ""
    return sanitize_html(_parser().render(source))


# A text this short renders in well under a millisecond: not worth a thread hop. Longer ones
# (up to 50,000 characters, tens to hundreds of milliseconds) render off the event loop.
INLINE_CHARS = 4000


async def render_markdown_off_loop(source: str) -> str:
    """`render_markdown` for a request: long texts in a worker thread, two at a time."""
    if len(source) <= INLINE_CHARS:
        return render_markdown(source)
    return await MARKDOWN_RENDERING.run(render_markdown, source)
