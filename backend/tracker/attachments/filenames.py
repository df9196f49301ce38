"""File names: what we keep of the name a client sent, and how we send it back.

The name is display data only (it never becomes part of a path), but it still travels into
headers and other people's downloads folders, so it is cleaned the same way every time.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME_BYTES = 255
FALLBACK_NAME = "file"

# Cc (controls, incl. NUL, CR, LF, DEL), Cf (format: bidi overrides such as U+202E that make
# "gnp.exe" look like "exe.png"), Zl/Zp (line/paragraph separators), Cs (lone surrogates).
_DROP_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"})
# Characters that Windows refuses in names or that shells and headers treat specially.
_REPLACE = str.maketrans(dict.fromkeys('<>:"|?*', "_"))


def normalize_filename(raw: str | None) -> str:
    """The name to store: last path segment, no controls, NFC, at most 255 UTF-8 bytes."""
    name = unicodedata.normalize("NFC", raw or "")
    # Both separators: a browser on Windows may send "C:\\Users\\me\\shot.png".
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _DROP_CATEGORIES)
    name = name.translate(_REPLACE)
    name = re.sub(r"\s+", " ", name).strip(" .")  # no hidden dot-files, no "..", no "name. "
    if not name:
        return FALLBACK_NAME
    return _truncate_keeping_extension(name, MAX_NAME_BYTES)


def _truncate_keeping_extension(name: str, limit: int) -> str:
    if len(name.encode()) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    suffix = f".{ext}" if dot and stem and len(ext.encode()) <= 16 else ""
    stem = name[: len(name) - len(suffix)]
    budget = limit - len(suffix.encode())
    encoded = stem.encode()[:budget]
    # Cut on a character boundary, never in the middle of a UTF-8 sequence.
    stem = encoded.decode(errors="ignore").rstrip(" .")
    return (stem or FALLBACK_NAME) + suffix


def extension(name: str) -> str:
    """Lower-case extension without the dot ('' when there is none)."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def with_extension(name: str, wanted: tuple[str, ...]) -> str:
    """Append the first wanted extension unless the name already ends in one of them.

    A PNG named `page.html` becomes `page.html.png`: once downloaded, the file opens as what it
    really is, not as a web page.
    """
    if extension(name) in wanted:
        return name
    return _truncate_keeping_extension(f"{name}.{wanted[0]}", MAX_NAME_BYTES)


def content_disposition(name: str, *, inline: bool) -> str:
    """RFC 6266: an ASCII `filename` for old clients and the exact name as `filename*`."""
    kind = "inline" if inline else "attachment"
    ascii_name = (
        unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").strip()
    )
    ascii_name = re.sub(r"[^A-Za-z0-9 !#$&+,.=@^_`{}~()\[\]\'-]", "_", ascii_name)
    ascii_name = re.sub(r"\s+", " ", ascii_name)
    ascii_name = re.sub(r" (\.[^.]*)$", r"\1", ascii_name)  # "Résumé 日本.pdf" -> "Resume.pdf"
    stem, dot, _ = ascii_name.rpartition(".")
    if not (stem if dot else ascii_name).strip("_. "):
        ext = extension(name)
        ascii_name = f"{FALLBACK_NAME}.{ext}" if ext.isascii() and ext.isalnum() else FALLBACK_NAME
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
