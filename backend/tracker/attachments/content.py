"""What a file really is, decided from its bytes, and whether we accept it.

Binary formats are recognised by their magic bytes (`filetype`); everything else must be text
(valid UTF-8 without NUL bytes) and is then told apart by its name only where that is harmless
(CSV vs. log vs. plain text). Markup (HTML, SVG, XML) is refused in any case: a browser would run
its scripts if it were ever rendered, and a downloaded `.html` opens in a browser.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass
from pathlib import Path

import filetype

from tracker.attachments.filenames import extension, with_extension
from tracker.errors import Unprocessable, UnsupportedMediaType

# Detected type -> the extensions a file of that type may carry (the first is the canonical one).
BINARY_TYPES: dict[str, tuple[str, ...]] = {
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "application/pdf": ("pdf",),
}
TEXT_EXTENSIONS: dict[str, str] = {
    "txt": "text/plain",
    "text": "text/plain",
    "log": "text/plain",
    "out": "text/plain",
    "md": "text/plain",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "json": "application/json",
}
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
# Rendered by the browser itself (image or its PDF viewer); everything else is download-only.
INLINE_TYPES = IMAGE_TYPES | {"application/pdf"}
ALLOWED_DESCRIPTION = "PNG, JPEG, GIF, WebP, PDF, plain text, CSV, JSON and log files"
ALLOWED_TYPES = sorted({*BINARY_TYPES, *TEXT_EXTENSIONS.values()})

# Extensions of documents a browser executes when opened, whatever their content.
_MARKUP_EXTENSIONS: dict[str, str] = {
    "html": "text/html",
    "htm": "text/html",
    "xhtml": "application/xhtml+xml",
    "shtml": "text/html",
    "svg": "image/svg+xml",
    "svgz": "image/svg+xml",
    "xml": "application/xml",
    "xsl": "application/xml",
    "xslt": "application/xml",
    "js": "text/javascript",
    "mjs": "text/javascript",
}
_MARKUP_START = re.compile(r"<(\?xml|!doctype|!--|[a-z])", re.IGNORECASE)
_HTML_TAGS = re.compile(
    r"<(!doctype\s+html|html|head|body|script|iframe|meta|title|div|a\s|img|style|form)\b",
    re.IGNORECASE,
)
_HEAD_BYTES = 8192
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Detected:
    content_type: str
    filename: str

    @property
    def is_image(self) -> bool:
        return self.content_type in IMAGE_TYPES


def _refuse(detected: str, detail: str | None = None) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        detail or f"Files of type {detected} are not accepted; allowed: {ALLOWED_DESCRIPTION}",
        code="file_type_not_allowed",
        detected_type=detected,
        allowed_types=ALLOWED_TYPES,
    )


def detect(path: Path, filename: str) -> Detected:
    """Decide the type of a received file; raise 415 (or 422) if we do not accept it.

    Blocking (reads the file): run it in a worker thread.
    """
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
    if not head:
        raise Unprocessable(f"{filename} is empty", code="empty_file")

    kind = filetype.guess(head)
    if kind is not None:
        if kind.mime not in BINARY_TYPES:
            raise _refuse(kind.mime)
        return Detected(kind.mime, with_extension(filename, BINARY_TYPES[kind.mime]))

    text = _read_text(path)
    if text is None:
        raise _refuse(
            "application/octet-stream",
            "The file is neither an accepted image or PDF nor UTF-8 text; "
            f"allowed: {ALLOWED_DESCRIPTION}",
        )
    markup = _markup_type(text, extension(filename))
    if markup is not None:
        raise _refuse(markup)

    ext = extension(filename)
    content_type = TEXT_EXTENSIONS.get(ext)
    if content_type == "application/json":
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            raise Unprocessable(
                f"{filename} is not valid JSON; rename it to .txt to attach it as text",
                code="invalid_json",
            ) from None
        return Detected(content_type, filename)
    if content_type is not None:
        return Detected(content_type, filename)
    # Text under any other name (`fix.bat`, `run.sh`) is kept as text and named so it opens as
    # text once downloaded.
    return Detected("text/plain", filename if not ext else with_extension(filename, ("txt",)))


def _read_text(path: Path) -> str | None:
    """The file as text, or None if it is not UTF-8 or contains NUL bytes."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    parts: list[str] = []
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                if b"\x00" in chunk:
                    return None
                parts.append(decoder.decode(chunk))
            parts.append(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        return None
    return "".join(parts)


def _markup_type(text: str, ext: str) -> str | None:
    if ext in _MARKUP_EXTENSIONS:
        return _MARKUP_EXTENSIONS[ext]
    start = text.lstrip()[:4096]
    if not _MARKUP_START.match(start):
        return None
    lowered = start.lower()
    if "<svg" in lowered:
        return "image/svg+xml"
    if _HTML_TAGS.search(start):
        return "text/html"
    return "application/xml"
