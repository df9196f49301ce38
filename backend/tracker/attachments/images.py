"""Thumbnails: every accepted image is decoded once and re-encoded as a small WebP.

Decoding is also the check that the image is what its header claims: a truncated or corrupt file
is refused (422) instead of being stored and failing in every viewer later. The thumbnail is a new
encoding of the pixels only, so EXIF (GPS position, camera serial) and other metadata never reach
it; the original file is kept byte for byte for download.
"""

from __future__ import annotations

import warnings
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

_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF", "image/webp": "WEBP"}


def make_thumbnail(source: Path, target: Path, content_type: str, filename: str) -> None:
    """Decode `source` and write its thumbnail to `target`. Blocking: run it in a thread."""
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
            image.load()  # decodes the first frame completely: corrupt data fails here
            frame = ImageOps.exif_transpose(image)  # keep it upright once EXIF is gone
            has_alpha = frame.mode in ("RGBA", "LA", "PA") or "transparency" in frame.info
            frame = frame.convert("RGBA" if has_alpha else "RGB")
            frame.thumbnail(THUMBNAIL_SIZE, Image.Resampling.LANCZOS)
            frame.save(target, "WEBP", quality=80, method=4)
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
