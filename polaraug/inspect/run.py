"""``polaraug inspect`` as one library call."""

from __future__ import annotations

import os
from pathlib import Path

from polaraug.data.camera_choice import resolve_camera
from polaraug.errors import ConfigError
from polaraug.physics import DEFAULT_TOLERANCE

from .colour import colour_frame_of, inspect_colour
from .example import write_example
from .report import InspectSummary, inspect_capture

EXAMPLE_CAMERA = "sony_imx250mzr"


def inspect_file(file: str | os.PathLike | None, out: str | os.PathLike, *, calibration: str | None = None,
                 demosaic: str = "bilinear", fmt: str = "tiff", example: bool = False,
                 tol: float = DEFAULT_TOLERANCE) -> InspectSummary | dict[str, InspectSummary]:
    """Inspect one capture (or the built-in example): maps, pictures and summary.json into ``out``.

    Args:
        file: the capture, a raw DoFP mosaic (H, W) or a 4-channel image; None with ``example``.
        out: output folder.
        calibration: camera file or built-in name; default: ideal (the Sony IMX250MZR for the example).
        demosaic: DoFP demosaicing, ``bilinear`` or ``superpixel``.
        fmt: float map format, ``tiff`` or ``npy``.
        example: render the built-in synthetic capture into ``out`` and inspect it.
        tol: admissibility tolerance in [0, 1] units.

    Returns:
        The summary; for a colour capture (``NAME_0`` of per-angle RGB images, or a raw mosaic with a colour
        camera) {R, G, B, luminance: summary}, each part's maps in ``out/PART``.

    Raises:
        ConfigError: both or neither of ``file`` and ``example``.
    """
    from polaraug.io.capture import read_capture

    if example == (file is not None):
        raise ConfigError("give either a capture FILE or --example")
    camera = resolve_camera(calibration, default=EXAMPLE_CAMERA if example else "ideal")
    if example:
        file = write_example(out, camera)
    colour = None if example else colour_frame_of(Path(file), camera)
    if colour is not None:
        return inspect_colour(colour, camera, out, fmt, tol)
    cap = read_capture(Path(file), camera, demosaic)
    return inspect_capture(cap, camera, out, fmt, tol)
