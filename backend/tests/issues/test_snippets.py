"""Search snippets (which words are marked, which part of a long text is shown, and that only
<mark> ever reaches the page) and which queries the search index answers alone."""

from __future__ import annotations

from tracker.issues.search import plain_words
from tracker.issues.snippets import SNIPPET_CHARS, snippet_html, word_pattern


def test_words_are_marked_by_stem_whatever_their_case_and_only_from_their_start() -> None:
    pattern = word_pattern(["login", "memori"])
    html = snippet_html("LOGINS fail; relogin works. Memory and memories grow.", pattern)
    assert html == (
        "<mark>LOGINS</mark> fail; relogin works. <mark>Memory</mark> and "
        "<mark>memories</mark> grow."
    )


def test_a_text_whose_lower_case_is_longer_is_still_marked_in_place() -> None:
    # "İ" lower-cases to two characters, so positions in the lower-cased text would be off.
    html = snippet_html("İstanbul: the login fails", word_pattern(["login"]))
    assert html == "İstanbul: the <mark>login</mark> fails"


def test_a_long_text_shows_two_fragments_around_the_first_matches() -> None:
    filler = " ".join(["lorem ipsum dolor"] * 40)
    text = f"{filler} the export hangs. {filler} export again. {filler} export thrice."
    html = snippet_html(text, word_pattern(["export"]))
    assert html is not None
    first, second = html.split(" … ")
    assert "<mark>export</mark> hangs." in first
    assert "<mark>export</mark> again." in second
    assert "thrice" not in html
    for fragment in (first, second):
        plain = fragment.replace("<mark>", "").replace("</mark>", "")
        assert len(plain) <= SNIPPET_CHARS + 60
        assert not plain.startswith(" ") and not plain.endswith(" ")


def test_without_a_match_the_text_begins_the_snippet_and_markup_is_escaped() -> None:
    text = "<b>bold</b> & \x02control\x03 characters\n\nand   spaces " + "word " * 100
    html = snippet_html(text, word_pattern(["absent"]))
    assert html is not None
    assert html.startswith("&lt;b&gt;bold&lt;/b&gt; &amp; control characters and spaces word")
    assert "<" not in html and "\x02" not in html
    assert len(html) < SNIPPET_CHARS + 60
    assert snippet_html("", word_pattern(["x"])) is None
    assert word_pattern([]) is None


def test_only_plain_words_take_the_search_index_path() -> None:
    # websearch_to_tsquery reads these as words that must all appear: search_terms answers them.
    for text in ("printer", "printer jams", "Login 500 on Safari", "café crème"):
        assert plain_words(text), text
    # Phrases, alternatives, exclusions and punctuation the parser splits go through issues.
    for text in ('"printer jams"', "printer or scanner", "printer OR scanner", "-printer",
                 "printer -scanner", "don't", "e-mail", "v1.2", "a_b"):  # fmt: skip
        assert not plain_words(text), text
