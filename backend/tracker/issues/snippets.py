"""Search snippets as safe HTML: every piece of text escaped, only the match markers become <mark>.

PostgreSQL's ts_headline wraps each match in MARK_START/MARK_STOP (control characters). The
snippet is split on them; text between is escaped, and a marker opens or closes a <mark> only
where that keeps the markup balanced, so a marker character stored in an issue's own text can
shift a highlight but never leaves an element open or closes one that is not. Nothing else ever
reaches the HTML: no tag, attribute or entity comes from the issue's text.
"""

from __future__ import annotations

import html
import re

from tracker.issues.repository import MARK_START, MARK_STOP

_PIECES = re.compile(f"([{MARK_START}{MARK_STOP}])")


def snippet_html(headline: str | None) -> str | None:
    if not headline:
        return None
    out: list[str] = []
    inside = False
    for piece in _PIECES.split(" ".join(headline.split())):
        if piece == MARK_START:
            if not inside:
                out.append("<mark>")
                inside = True
        elif piece == MARK_STOP:
            if inside:
                out.append("</mark>")
                inside = False
        elif piece:
            out.append(html.escape(piece, quote=True))
    if inside:
        out.append("</mark>")
    return "".join(out)
