"""Names as stored and as sent back in Content-Disposition."""

from __future__ import annotations

import pytest

from tracker.attachments.filenames import content_disposition, normalize_filename, with_extension


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("shot.png", "shot.png"),
        ("a/b/c.txt", "c.txt"),
        ("..\\..\\x.txt", "x.txt"),
        ("...", "file"),
        (".bashrc", "bashrc"),
        ("name. ", "name"),
        (None, "file"),
        ("a\x00b\x1fc\x7f.txt", "abc.txt"),
        ('what?*:<>|".txt', "what_______.txt"),
        ("tabs\tand\nnewlines.txt", "tabsandnewlines.txt"),
        ("  lots   of   space .txt", "lots of space .txt"),
        ("e\u0301", "\u00e9"),
    ],
)
def test_normalize_filename(raw, expected):
    assert normalize_filename(raw) == expected


def test_long_names_are_cut_on_a_character_boundary_keeping_the_extension():
    name = normalize_filename("日" * 200 + ".pdf")
    assert name.endswith(".pdf")
    assert len(name.encode()) <= 255
    assert name[:-4] == "日" * ((255 - 4) // 3)


def test_with_extension_keeps_matching_and_appends_otherwise():
    assert with_extension("a.JPG", ("jpg", "jpeg")) == "a.JPG"
    assert with_extension("a.html", ("png",)) == "a.html.png"


@pytest.mark.parametrize(
    ("name", "inline", "expected"),
    [
        ("a.png", True, "inline; filename=\"a.png\"; filename*=UTF-8''a.png"),
        (
            'q"uote\\.txt',
            False,
            "attachment; filename=\"q_uote_.txt\"; filename*=UTF-8''q%22uote%5C.txt",
        ),
        (
            "日本.txt",
            False,
            "attachment; filename=\"file.txt\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt",
        ),
        ("日本", False, "attachment; filename=\"file\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC"),
    ],
)
def test_content_disposition(name, inline, expected):
    assert content_disposition(name, inline=inline) == expected
