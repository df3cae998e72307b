"""``polaraug inspect`` on a colour polarization capture: the same maps and summary per colour and for the
luminance mix, each in its own sub-folder (``OUT/R``, ``OUT/G``, ``OUT/B``, ``OUT/luminance``)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from polaraug.cameras import Camera
from polaraug.colour.captures import ColourFrame, read_colour_frame
from polaraug.io.capture import Capture
from polaraug.io.images import ImageReadError, image_header
from polaraug.physics.colour import COLOURS, LUMINANCE, per_colour, to_mono

from .report import InspectSummary, inspect_capture

ANGLES = (0, 45, 90, 135)


def _is_rgb(file: Path) -> bool:
    """Whether ``file``'s header says RGB (False for a header PIL cannot read, e.g. NPY: reading the capture
    then says what is wrong with it)."""
    try:
        return image_header(file)[2].startswith("RGB")
    except ImageReadError:
        return False


def colour_frame_of(file: Path, camera: Camera) -> ColourFrame | None:
    """The colour frame ``file`` belongs to: ``NAME_0`` of a group of per-angle RGB images, or a raw mosaic
    with a camera that has a colour pattern; None for any other capture."""
    if file.stem.endswith("_0"):
        group = tuple(file.with_name(f"{file.stem[:-2]}_{a}{file.suffix}") for a in ANGLES)
        if all(p.is_file() for p in group) and _is_rgb(file):
            return ColourFrame(file.stem[:-2], group)
    if camera.colour_dofp_pattern is not None:
        return ColourFrame(file.stem, (file,))
    return None


def inspect_colour(frame: ColourFrame, camera: Camera, out: str | os.PathLike, fmt: str,
                   tol: float) -> dict[str, InspectSummary]:
    """Inspect each colour and the luminance mix of ``frame``; {R, G, B, luminance: summary}."""
    y = read_colour_frame(frame, camera)
    saturated = (y >= 1).any(axis=-1)
    planes = per_colour(y)
    parts = {c: np.ascontiguousarray(planes[..., k, :]) for k, c in enumerate(COLOURS)}
    parts["luminance"] = to_mono(y, LUMINANCE)
    return {name: inspect_capture(Capture(v, saturated, f"colour {name}", frame.paths[0]), camera,
                                  Path(out) / name, fmt, tol) for name, v in parts.items()}
