"""Search snippets as safe HTML: the issue's text escaped, the searched words in <mark>.

A snippet is at most two fragments of the text around the first matches of the search's words,
each about SNIPPET_CHARS long and cut at spaces, joined by " … "; with no match in the text,
its beginning. Words are matched by their stem (PostgreSQL's `english` lexemes, which the
search already has): a word of the text is marked when it begins with a stem, a stem ending in
"i" also standing for "y" ("memori" marks "memory"). Everything between the marks is escaped,
so no tag, attribute or entity ever comes from the issue's text; white space and control
characters become single spaces.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence

SNIPPET_CHARS = 180
# Context shown before a fragment's first match.
_LEAD_CHARS = 50
_FRAGMENTS = 2
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def word_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    """The search's stems, as found in a lower-cased text (see _matches)."""
    stems = []
    for word in sorted({w.lower() for w in words}, key=len, reverse=True):
        if len(word) > 2 and word.endswith("i"):
            stems.append(re.escape(word[:-1]) + "[iy]")
        else:
            stems.append(re.escape(word))
    if not stems:
        return None
    return re.compile(rf"(?:{'|'.join(stems)})\w*")


def _matches(text: str, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """Whole words of `text` that begin with a stem. The pattern runs on the lower-cased text
    (case-sensitive patterns that begin with plain letters are searched for several times
    faster) and a match inside a word is skipped."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer: rare, slower
        lowered, pattern = text, re.compile(pattern.pattern, re.IGNORECASE)
    for match in pattern.finditer(lowered):
        start = match.start()
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_"):
            yield match


def _word_start(text: str, at: int, floor: int) -> int:
    """The start of the word around `at`, not before `floor`."""
    if at <= floor:
        return floor
    space = max(text.rfind(" ", floor, at), text.rfind("\n", floor, at))
    return space + 1 if space >= 0 else floor


def _word_end(text: str, at: int) -> int:
    """The end of the word around `at`."""
    space, line = text.find(" ", at), text.find("\n", at)
    if space < 0 or 0 <= line < space:
        space = line
    return space if space >= 0 else len(text)


def snippet_html(text: str | None, pattern: re.Pattern[str] | None) -> str | None:
    """Only the fragments shown are cleaned up: folded white space, no control characters."""
    if not text or text.isspace():
        return None
    # (start, end, the matches inside) of each fragment; the text is read only as far as needed.
    fragments: list[tuple[int, int, list[re.Match[str]]]] = []
    for match in _matches(text, pattern) if pattern is not None else ():
        if fragments and match.start() < fragments[-1][1]:
            if match.end() <= fragments[-1][1]:
                fragments[-1][2].append(match)
            continue
        if len(fragments) == _FRAGMENTS:
            break
        floor = fragments[-1][1] + 1 if fragments else 0
        start = _word_start(text, match.start() - _LEAD_CHARS, floor)
        end = _word_end(text, max(start + SNIPPET_CHARS, match.end()))
        fragments.append((start, end, [match]))
    if not fragments:
        start = len(text) - len(text.lstrip())
        fragments.append((start, _word_end(text, start + SNIPPET_CHARS), []))
    out: list[str] = []
    for start, end, matches in fragments:
        # The text's own control characters become spaces; then \x02 and \x03 can hold the
        # marks' places while the fragment is escaped in one pass.
        clean = _CONTROL.search(text, start, end) is not None
        at, marked = start, list[str]()
        for match in matches:
            word = text[match.start() : match.end()]
            marked += (_clean(text[at : match.start()], clean), "\x02", word, "\x03")
            at = match.end()
        marked.append(_clean(text[at:end], clean))
        fragment = html.escape(" ".join("".join(marked).split()), quote=True)
        out.append(fragment.replace("\x02", "<mark>").replace("\x03", "</mark>"))
    return " … ".join(out)


def _clean(piece: str, clean: bool) -> str:
    return _CONTROL.sub(" ", piece) if clean else piece
