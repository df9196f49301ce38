"""Search snippets as safe HTML: everything escaped, then only the match markers become <mark>."""

from __future__ import annotations

import html

import nh3

from tracker.issues.repository import MARK_START, MARK_STOP


def snippet_html(headline: str | None) -> str | None:
    if not headline:
        return None
    escaped = html.escape(" ".join(headline.split()), quote=True)
    marked = escaped.replace(MARK_START, "<mark>").replace(MARK_STOP, "</mark>")
    # A stray marker character in the stored text could leave a <mark> unbalanced: re-clean.
    return nh3.clean(marked, tags={"mark"}, attributes={})
