"""Thumbnails within a decoding budget: upright, without metadata, and none for huge images."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tracker.attachments.images import THUMBNAIL_MAX_PIXELS, make_thumbnail
from tracker.errors import Unprocessable


def _jpeg_rotated(size: tuple[int, int]) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: show it rotated 90° clockwise
    exif[0x010F] = "SecretCam"
    out = io.BytesIO()
    Image.new("RGB", size, "orange").save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_a_turned_photo_gets_an_upright_thumbnail_without_its_metadata(tmp_path: Path) -> None:
    source, target = tmp_path / "photo", tmp_path / "thumb.webp"
    source.write_bytes(_jpeg_rotated((120, 80)))
    assert make_thumbnail(source, target, "image/jpeg", "photo.jpg") is True
    with Image.open(target) as thumb:
        assert thumb.size == (80, 120)
        assert not thumb.getexif()


def test_a_large_screenshot_is_shrunk_to_fit_the_box(tmp_path: Path) -> None:
    source, target = tmp_path / "shot", tmp_path / "thumb.webp"
    Image.new("P", (5120, 2880), 3).save(source, "PNG")
    assert make_thumbnail(source, target, "image/png", "shot.png") is True
    with Image.open(target) as thumb:
        assert thumb.size == (480, 270)


def test_an_image_over_the_thumbnail_cap_is_checked_but_not_decoded(tmp_path: Path) -> None:
    source, target = tmp_path / "huge", tmp_path / "thumb.webp"
    side = int(THUMBNAIL_MAX_PIXELS**0.5) + 10
    Image.new("RGB", (side, side), "white").save(source, "PNG")
    assert make_thumbnail(source, target, "image/png", "huge.png") is False
    assert not target.exists()
    # Its structure is still checked: a damaged chunk is refused.
    data = bytearray(source.read_bytes())
    data[40] ^= 0xFF  # inside the first IDAT chunk: its checksum no longer matches
    source.write_bytes(bytes(data))
    with pytest.raises(Unprocessable) as refused:
        make_thumbnail(source, target, "image/png", "huge.png")
    assert refused.value.code == "corrupt_image"
