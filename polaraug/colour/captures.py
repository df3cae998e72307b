"""Finding and reading colour polarization captures.

Two forms, in one folder:

- four RGB images per frame, ``NAME_0``, ``NAME_45``, ``NAME_90``, ``NAME_135`` (what colour polarization
  cameras' software exports, and how polaraug stores colour sets);
- one raw single-channel mosaic per frame, with a camera whose file gives ``colour_dofp_pattern``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from polaraug.cameras import Camera
from polaraug.data.errors import DatasetError
from polaraug.io.images import ImageReadError, read_image
from polaraug.io.listing import list_images
from polaraug.physics import to_float
from polaraug.physics.colour import demosaic_colour

ANGLES = (0, 45, 90, 135)


@dataclass(frozen=True)
class ColourFrame:
    """One colour capture: four per-angle RGB files, or one raw mosaic."""

    name: str
    paths: tuple[Path, ...]


def scan_colour(root: str | Path) -> list[ColourFrame]:
    """The colour frames of ``root``: complete ``NAME_{0,45,90,135}`` groups, else every single image
    (raw mosaics).

    Raises:
        DatasetError: no such folder, no images, or an incomplete per-angle group.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "no such folder")
    files = list_images(root, "readable", recursive=False)
    if not files:
        raise DatasetError(root, "no images found")
    firsts = [p for p in files if p.stem.endswith("_0")]
    frames = []
    for p in firsts:
        group = tuple(p.with_name(f"{p.stem[:-2]}_{a}{p.suffix}") for a in ANGLES)
        missing = [q.name for q in group if not q.is_file()]
        if missing:
            raise DatasetError(p, f"per-angle files of {p.stem[:-2]!r} incomplete: missing {missing}")
        frames.append(ColourFrame(p.stem[:-2], group))
    if frames:
        return frames
    return [ColourFrame(p.stem, (p,)) for p in files]


def read_colour_frame(frame: ColourFrame, camera: Camera) -> np.ndarray:
    """(H, W, 12) float32 colour-major intensities in [0, 1] (``polaraug.physics.colour``).

    Raises:
        ImageReadError: a file that is not an RGB image (per-angle) or a single-channel mosaic (raw), files
            of different shapes, or a raw mosaic with a camera that has no ``colour_dofp_pattern``.
    """
    if len(frame.paths) == 4:
        planes = [read_image(p) for p in frame.paths]
        for p, img in zip(frame.paths, planes, strict=True):
            if img.ndim != 3 or img.shape[2] != 3 or img.shape != planes[0].shape or img.dtype != planes[0].dtype:
                raise ImageReadError(f"{p}: per-angle colour images must be RGB and alike, got {img.shape} "
                                     f"{img.dtype} vs {planes[0].shape} {planes[0].dtype}")
        y = np.stack([to_float(img, camera.bit_depth) for img in planes], axis=-1)  # (H, W, 3 colours, 4 angles)
        return np.ascontiguousarray(y.reshape(*y.shape[:2], 12))
    raw = read_image(frame.paths[0])
    if raw.ndim != 2:
        raise ImageReadError(f"{frame.paths[0]}: a raw colour mosaic must be single-channel, got {raw.shape}")
    if camera.gain_map is not None:
        raise ImageReadError(f"{frame.paths[0]}: camera '{camera.name}' has a gain map; gain maps are not applied "
                             "to colour mosaics (flat-field them per colour plane first)")
    if camera.colour_dofp_pattern is None:
        raise ImageReadError(f"{frame.paths[0]}: a raw colour mosaic needs a camera with colour_dofp_pattern "
                             f"(camera '{camera.name}' has none; e.g. --calibration sony_imx250myr)")
    return demosaic_colour(to_float(raw, camera.bit_depth), camera.colour_dofp_pattern)
