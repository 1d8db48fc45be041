"""Uploaded images: checked to be real images of a sane size, re-encoded, stored under a random
name in instance/uploads. The user's filename and bytes are never kept as they came."""

import contextlib
import io
import secrets
import shutil
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from .errors import InvalidInput

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}


class UploadTooLarge(InvalidInput):
    status = 413
    code = "upload_too_large"


def uploads_dir() -> Path:
    """instance/uploads: outside static/, so nothing uploaded is ever served as a page."""
    return Path(current_app.instance_path) / "uploads"


def disk_state() -> str:
    """Whether the instance folder's disk (uploads, and SQLite's file) has DISK_FREE_FLOOR_MB
    free ("ok") or not ("low"): /healthz shows it before uploads start failing with a 503."""
    try:
        free = shutil.disk_usage(current_app.instance_path).free
    except OSError:
        return "unknown"
    return "low" if free < current_app.config["DISK_FREE_FLOOR_MB"] * 1024 * 1024 else "ok"


def read_limited(stream, limit: int = MAX_UPLOAD_BYTES, field: str = "image") -> bytes:
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadTooLarge(
            _l("The file is larger than %(kb)d KB.", kb=limit // 1024), field=field
        )
    return data


def save_image(
    stream, folder: Path, field: str = "image", limit: int = MAX_UPLOAD_BYTES, max_side: int = 2000
) -> str:
    """Validate and store an image; return the stored file name (random, .png or .jpg)."""
    data = read_limited(stream, limit, field)
    if not data:
        raise InvalidInput(_l("The file is empty."), code="empty_upload", field=field)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            probe.verify()
        if kind not in ALLOWED_FORMATS:
            raise UnidentifiedImageError(kind)
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise UploadTooLarge(_l("The image has too many pixels."), field=field)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise InvalidInput(
            _l("This is not a JPEG, PNG or WebP image."), code="not_an_image", field=field
        ) from None
    image.thumbnail((max_side, max_side))
    keep_alpha = image.mode in ("RGBA", "LA", "P")
    name = secrets.token_hex(16) + (".png" if keep_alpha else ".jpg")
    out = image.convert("RGBA" if keep_alpha else "RGB")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Re-encoding drops metadata (GPS in EXIF) and anything hidden after the image data.
        out.save(folder / name, format="PNG" if keep_alpha else "JPEG", quality=88)
    except OSError:
        # A full disk (ENOSPC, EDQUOT) stops the write halfway: keep no partial file. The error
        # goes on up: the request's transaction is rolled back and the answer is a 503
        # (market/errors.py), the same as when the database cannot write.
        with contextlib.suppress(OSError):
            (folder / name).unlink(missing_ok=True)
        raise
    return name


def stored_path(folder: Path, name: str | None) -> Path | None:
    """The path of a stored upload, refusing anything that is not one of our random names."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = folder / name
    return path if path.is_file() else None
