"""Checks shared by the readers: safe frame names and sane boxes."""

from __future__ import annotations

import math
from pathlib import Path, PurePosixPath, PureWindowsPath

from .errors import BoxDropped, DatasetError

BOX_SLACK = 1.0  # pixels a box may overhang the image (annotation rounding) before it is an error


def safe_image_path(root: Path, name: str, source: Path, line: int | None = None) -> Path:
    """``root / name``, refusing absolute names, drive letters and names that climb out of ``root``
    (``../../etc``). Symbolic links inside ``root`` are followed as the dataset's owner made them."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if not name or pure.is_absolute() or ".." in pure.parts or PureWindowsPath(name).anchor:
        raise DatasetError(source, f"frame name {name!r} escapes the image folder {root}", line)
    return root / pure


def image_exists(path: Path, source: Path, what: str, line: int | None = None) -> bool:
    """``path.is_file()`` for an image a label file names; a name the file system refuses (too long, ...) is
    an error of ``source`` (about ``what``), not an OSError."""
    try:
        return path.is_file()
    except OSError as e:
        reason = e.strerror or str(e)
        raise DatasetError(source, f"{what}: cannot look for image ...{str(path)[-60:]!r}: {reason}", line) from None


def checked_box(coords: tuple, width: int | None, height: int | None,
                source: Path, what: str, *, line: int | None = None) -> tuple[float, float, float, float]:
    """Validate (x1, y1, x2, y2) in continuous pixels; clip overhangs up to BOX_SLACK; raise otherwise.

    Args:
        coords: (x1, y1, x2, y2) as read from a label file.
        width: image width, or None when unknown (no range check).
        height: image height, or None when unknown.
        source: the label file, for messages.
        what: which box, for messages.
        line: the line in ``source``, for messages.

    Returns:
        The clipped box as floats.

    Raises:
        DatasetError: non-numeric, non-finite, inverted boxes, or boxes overhanging the image by more than
            BOX_SLACK; BoxDropped (a DatasetError) for a box wholly outside the image or with no area inside
            it, which a reader may drop alone.
    """
    try:
        x1, y1, x2, y2 = (float(v) for v in coords)
    except (TypeError, ValueError):
        raise DatasetError(source, f"{what}: box coordinates must be numbers, got {coords}", line) from None
    if not math.isfinite(x1 + y1 + x2 + y2):
        raise DatasetError(source, f"{what}: box coordinates must be finite, got {coords}", line)
    if x2 < x1 or y2 < y1:
        raise DatasetError(source, f"{what}: box has x2 < x1 or y2 < y1: {coords}", line)
    if width is not None and height is not None:
        if x2 <= 0 or y2 <= 0 or x1 >= width or y1 >= height:  # wholly outside: an object out of frame
            raise BoxDropped(source, "box outside the image", line)
        if x1 < -BOX_SLACK or y1 < -BOX_SLACK or x2 > width + BOX_SLACK or y2 > height + BOX_SLACK:
            raise DatasetError(source, f"{what}: box {coords} lies outside the {width}x{height} image", line)
        x1, x2 = min(max(x1, 0.0), float(width)), min(max(x2, 0.0), float(width))
        y1, y2 = min(max(y1, 0.0), float(height)), min(max(y2, 0.0), float(height))
    if x2 <= x1 or y2 <= y1:
        raise BoxDropped(source, "box with no area inside the image", line)
    return x1, y1, x2, y2
