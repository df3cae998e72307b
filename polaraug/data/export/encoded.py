"""A polarimetric set as a YOLO dataset in one encoding (``polaraug export-yolo``).

Images are re-encoded as 8-bit PNGs (ultralytics reads 16-bit PNGs by dropping the low byte anyway):
``intensities`` 4 channels, written admissibly; ``stokes``, ``i0-i45-i90`` and ``hsv`` 3 channels (the hsv
hue periodic, see polaraug.data.encodings). ultralytics keeps 4-channel images in OpenCV order internally and
reverses 3-channel ones to file order; either way training and evaluation see the same channels.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np

from polaraug.data.encodings import CHANNELS, check_encoding, encode, to_dtype
from polaraug.data.frame import Frame
from polaraug.data.polarset import PolarSet
from polaraug.errors import InputError
from polaraug.io.images import write_image
from polaraug.io.lock import output_lock
from polaraug.physics import depolarize, repair_intensities
from polaraug.physics.quantize import quantize_admissible

from .yolo import YoloExportReport, export_yolo


def encoded_image(y: np.ndarray, a: np.ndarray, encoding: str) -> np.ndarray:
    """Intensities (H, W, 4) float in [0, 1] -> uint8 image of ``encoding``. Intensities are first projected
    onto the admissible set (a no-op for valid data; what ``validate --fix`` does to invalid data, e.g. the
    output of an unprojected translator), so that every exported pixel is admissible."""
    if encoding == "intensities":
        return quantize_admissible(repair_intensities(y, a), a, 8)
    return to_dtype(encode(y, a, encoding), np.uint8, encoding)


def export_encoded(ps: PolarSet, out: str | Path, encoding: str = "intensities",
                   splits: tuple[str, ...] | None = None, *, classes: Collection[str] | None = None,
                   depolarized: bool = False) -> YoloExportReport:
    """Write ``ps`` (all or the given splits) to ``out`` as a YOLO dataset in ``encoding``.

    Args:
        ps: the polarimetric set.
        out: the YOLO dataset folder.
        encoding: intensities, stokes, i0-i45-i90 or hsv.
        splits: the splits to export (default: all of the set's).
        classes: canonical classes to label (default: all).
        depolarized: remove each pixel's polarization first (same s0, DoLP 0; ``physics.depolarize``).

    Returns:
        Counts of frames per split, boxes and dropped ignore boxes.

    Raises:
        InputError: an unknown encoding, or a frame that cannot be read (the message names its file).
    """
    check_encoding(encoding)
    a = ps.camera.matrix(np.float64)

    def write(frame: Frame, stem_path: Path) -> Path:
        try:
            y = ps.load(frame)
            img = encoded_image(depolarize(y, a) if depolarized else y, a, encoding)
        except InputError as e:
            raise InputError(f"{frame.image}: {e}") from None
        # not with_suffix: a stem may contain dots ("a.b"), which must stay in the name
        return write_image(stem_path.parent / f"{stem_path.name}.png", img)

    chosen = splits or tuple(ps.splits)
    with output_lock(out, "polaraug export-yolo"):
        return export_yolo({s: ps.frames(s) for s in chosen}, out, channels=CHANNELS[encoding], image_writer=write,
                           classes=classes)
