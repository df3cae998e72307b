"""A colour polarization capture set -> a paired RGB <-> mono polarimetric set for ``train --paired``.

One exposure gives both sides of a pair, from the user's own camera: the RGB image is each colour's s0 / 2
(the mean of the four angle images for an ideal camera: what the sensor records of unpolarized light of the
same total intensity, so it never exceeds the range), and the polarimetric twin is the luminance mix of the
colours (``physics.colour.to_mono``), in polaraug's layout with the camera's polarizer model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from polaraug.cameras import Camera
from polaraug.data.errors import DatasetError
from polaraug.data.frame import Frame
from polaraug.data.polarset import PolarSetWriter
from polaraug.io.images import ImageReadError, write_image
from polaraug.physics.colour import LUMINANCE, colour_s0, to_mono

from .captures import read_colour_frame, scan_colour
from .stats import colour_report


@dataclass
class PairsReport:
    """What a conversion wrote and skipped."""

    written: int = 0
    unreadable: list[str] = field(default_factory=list)
    stats: dict[str, dict] = field(default_factory=dict)  # per frame: per-colour statistics (colour_report)


def colour_to_pairs(src: str | Path, out: str | Path, camera: Camera, *, weights=LUMINANCE, bits: int = 16,
                    progress: bool = True) -> PairsReport:
    """Write ``out/rgb/NAME.png`` (8-bit RGB) and ``out/polar`` (polaraug layout, split train) from every
    colour frame of ``src``.

    Args:
        src: folder of colour captures (see ``captures.py``).
        out: the paired folder to write.
        camera: the polarizer model (and, for raw mosaics, the colour pattern and bit depth).
        weights: R, G, B weights of the mono twin (default BT.601 luminance).
        bits: depth of the polarimetric PNGs (8 or 16).
        progress: show a progress bar.

    Returns:
        Frames written, unreadable frames skipped (named with their error), and each frame's per-colour
        statistics.

    Raises:
        DatasetError: no readable frame at all; ValueError: bad weights.
    """
    out = Path(out)
    w = np.asarray(weights, np.float64)
    to_mono(np.zeros(12, np.float32), w)  # checks the weights before any work
    a = camera.matrix(np.float64)
    mono_camera = dataclasses.replace(camera, colour_dofp_pattern=None, dofp_pattern=None, path=None)
    writer = PolarSetWriter(out / "polar", mono_camera, bits=bits, created_by="polaraug colour-pairs",
                            extra={"source": str(Path(src).resolve()), "luminance_weights": w.tolist()})
    report = PairsReport()
    for frame in tqdm(scan_colour(src), desc="colour-pairs", unit="frame", disable=not progress):
        try:
            y = read_colour_frame(frame, camera)
        except (ImageReadError, OSError) as e:
            report.unreadable.append(str(e))
            continue
        report.stats[frame.name] = colour_report(y, a, w)
        mono = to_mono(y, w / w.sum())
        rgb = np.clip(colour_s0(y, a) / 2, 0, 1)
        write_image(out / "rgb" / f"{frame.name}.png", np.round(rgb * 255).astype(np.uint8))
        writer.add(Frame(f"{frame.name}.png", out / "rgb" / f"{frame.name}.png", [], split="train"), mono)
        report.written += 1
    if not report.written:
        raise DatasetError(Path(src), f"no readable colour frame ({len(report.unreadable)} unreadable)")
    writer.close()
    return report
