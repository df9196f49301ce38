"""Markdown to safe HTML, for issue descriptions, comments and the editor's preview.

Two layers: markdown-it renders with raw HTML disabled (so `<script>` in the source is text),
then nh3 cleans the result against a strict allow-list — tags, attributes and URL schemes — so
nothing the parser lets through by accident (a `javascript:` link, an inline SVG, an event
handler) reaches a browser. Links are marked `nofollow noopener noreferrer`.

`@handle` in running text (not in code, not inside a link, not part of an e-mail address)
becomes a link to that person's page, whether or not anyone holds the handle: the HTML must
not tell its author who exists. `mentioned_handles` reads the same handles for notifications.
"""

from __future__ import annotations

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

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
    "a": {"href", "title", "class"},
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


# A handle (auth/handles.py) after anything but a letter, digit, '@', '/', '.', '_' or '-'.
# Handles are lowercase; `@Bob` mentions `bob`, as people type names.
MENTION = re.compile(r"(?<![\w@/.-])@([a-z0-9_-]{2,39})(?![\w-])", re.IGNORECASE)
MENTION_CLASS = "mention"


def mention_href(handle: str) -> str:
    return f"/people/{handle}"


def _mentions(state: StateCore) -> None:
    """Split text tokens around @handles into links (a core rule, after inline parsing)."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        out: list[Token] = []
        in_link = 0
        for token in block.children:
            in_link += {"link_open": 1, "link_close": -1}.get(token.type, 0)
            if token.type != "text" or in_link or "@" not in token.content:
                out.append(token)
                continue
            at = 0
            for match in MENTION.finditer(token.content):
                if match.start() > at:
                    out.append(_text(token.content[at : match.start()]))
                link = Token("link_open", "a", 1)
                link.attrs = {"href": mention_href(match[1].lower()), "class": MENTION_CLASS}
                out += [link, _text(match[0]), Token("link_close", "a", -1)]
                at = match.end()
            if at < len(token.content):
                out.append(_text(token.content[at:]))
        block.children = out


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def mentioned_handles(source: str) -> set[str]:
    """The handles a Markdown text mentions, exactly those `render_markdown` links."""
    prefix = mention_href("")
    return {
        str(token.attrs["href"]).removeprefix(prefix)
        for block in _parser().parse(source)
        for token in block.children or ()
        if token.type == "link_open" and token.attrs.get("class") == MENTION_CLASS
    }


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(
        ["table", "strikethrough"]
    )
    md.core.ruler.push("mentions", _mentions)
    return md


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        if tag == "code" and value.startswith(_CODE_CLASS_PREFIX) and value[9:].isalnum():
            return value
        if tag == "a" and value == MENTION_CLASS:
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
