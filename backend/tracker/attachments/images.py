"""Thumbnails: every accepted image is decoded once and re-encoded as a small WebP.

Decoding is also the check that the image is what its header claims: a truncated or corrupt file
is refused (422) instead of being stored and failing in every viewer later. The thumbnail is a new
encoding of the pixels only, so EXIF (GPS position, camera serial) and other metadata never reach
it; the original file is kept byte for byte for download.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from tracker.errors import Unprocessable

THUMBNAIL_SIZE = (480, 480)
# A screenshot of a 8K display is 33 Mpx; anything much larger is a decompression bomb
# (a few KB of PNG that expands to gigabytes of pixels).
MAX_PIXELS = 50_000_000
# Pillow's own guard, checked when the header is read: above this it warns (made an error here),
# above twice this it raises DecompressionBombError.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.simplefilter("error", Image.DecompressionBombWarning)
# Larger images (after a JPEG's reduced decoding) are kept without a thumbnail: decoding one
# costs 4 bytes a pixel, 200 MB at 50 Mpx, and a few of them at once would take the process.
THUMBNAIL_MAX_PIXELS = 24_000_000
# Decoded pixels held at once by all uploads of this process; an upload waits for its share.
DECODE_BUDGET_BYTES = 256 * 1024 * 1024
# The modes Pillow thumbnails directly; others (palette, 16-bit, CMYK…) are converted first.
_DIRECT_MODES = frozenset({"RGB", "RGBA", "L", "LA"})

_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


class _DecodeBudget:
    """Bytes of decoded pixels that may be held at once, across the threads that decode."""

    def __init__(self, total: int) -> None:
        self.total = self.free = total
        self._changed = threading.Condition()

    @contextmanager
    def reserve(self, size: int) -> Iterator[None]:
        size = min(size, self.total)  # the largest image allowed still runs, alone
        with self._changed:
            self._changed.wait_for(lambda: self.free >= size)
            self.free -= size
        try:
            yield
        finally:
            with self._changed:
                self.free += size
                self._changed.notify_all()


DECODING = _DecodeBudget(DECODE_BUDGET_BYTES)


def make_thumbnail(source: Path, target: Path, content_type: str, filename: str) -> bool:
    """Check the image at `source` and write its thumbnail to `target`; False when it is too
    large to thumbnail (checked without decoding its pixels). Blocking: run it in a thread."""
    try:
        with Image.open(source, formats=[_FORMATS[content_type]]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Unprocessable(
                    f"{filename} is {width} x {height} pixels; images may have at most "
                    f"{MAX_PIXELS // 1_000_000} million pixels",
                    code="image_too_large",
                )
            # JPEG can decode at a fraction of its size directly: far less memory and time.
            image.draft("RGB", THUMBNAIL_SIZE)
            pixels = image.width * image.height
            if pixels > THUMBNAIL_MAX_PIXELS:
                image.verify()  # the file's structure and checksums, without its pixels
                return False
            copies = 1 if image.mode in _DIRECT_MODES else 2
            with DECODING.reserve(pixels * 4 * copies):
                _thumbnail(image, target)
            return True
    except Unprocessable:
        target.unlink(missing_ok=True)
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        target.unlink(missing_ok=True)
        raise Unprocessable(
            f"{filename} has too many pixels to be an ordinary image",
            code="image_too_large",
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        target.unlink(missing_ok=True)
        raise Unprocessable(
            f"{filename} looks like an image but cannot be read; it may be damaged",
            code="corrupt_image",
        ) from None


def _thumbnail(image: Image.Image, target: Path) -> None:
    """Decode, shrink first (in place, with a fast integer reduction), then fix up the small
    copy: the full-size pixels are held once, never copied."""
    image.load()  # decodes the first frame completely: corrupt data fails here
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    frame = image
    if frame.mode not in _DIRECT_MODES:
        frame = frame.convert("RGBA" if has_alpha else "RGB")
    frame.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS, reducing_gap=3.0)
    # EXIF orientation is read from the original: keep the thumbnail upright once EXIF is gone.
    orientation = image.getexif().get(0x0112)
    if orientation:
        frame.getexif()[0x0112] = orientation
        frame = ImageOps.exif_transpose(frame)
    frame = frame.convert("RGBA" if has_alpha else "RGB")
    frame.save(target, "WEBP", quality=80, method=4)
