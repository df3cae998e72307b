"""A built-in synthetic capture for ``polaraug inspect --example``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from polaraug.cameras import Camera


def write_example(out: str | os.PathLike, camera: Camera) -> Path:
    """Render the synthetic test pattern through ``camera`` into an 8-bit capture.

    Args:
        out: folder; the capture is written to ``out/example_capture.png``.
        camera: camera to render through; with a ``dofp_pattern`` the capture is a raw (H, W) mosaic,
            else an (H, W, 4) image.

    Returns:
        The capture's path.
    """
    from polaraug.io.images import write_image
    from polaraug.physics import intensities_from_stokes, mosaic
    from polaraug.synth import polarized_test_pattern

    y = intensities_from_stokes(polarized_test_pattern(), camera.matrix())
    y8 = np.round(np.clip(y, 0, 1) * 255).astype(np.uint8)
    img = mosaic(y8, camera.dofp_pattern) if camera.dofp_pattern is not None else y8
    return write_image(Path(out) / "example_capture.png", img)
