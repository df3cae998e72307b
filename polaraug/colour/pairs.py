"""A colour polarization capture set -> a paired RGB <-> mono polarimetric set for ``train --paired``.

One exposure gives both sides of a pair, from the user's own camera: the RGB image is each colour's s0 / 2
(the mean of the four angle images for an ideal camera: what the sensor records of unpolarized light of the
same total intensity, so it never exceeds the range), sRGB-encoded by default as a camera's JPEG or a
BDD100K frame is (translators are trained on and applied to such frames; ``linear`` keeps the sensor's
values), and the polarimetric twin is the luminance mix of the colours (``physics.colour.to_mono``), in
polaraug's layout with the camera's polarizer model.

Layout: ``OUT/rgb`` is a BDD100K-layout set (``images/100k/train/NAME.png`` and an empty det_20 label
file) and ``OUT/polar`` a polaraug set of the same frame names: what ``train --paired`` and
``eval-translator --paired --split train`` read, as they read ``polaraug synth --mode paired`` output.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from polaraug.cameras import Camera
from polaraug.data.errors import DatasetError
from polaraug.data.export import write_bdd100k_labels
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


RGB_ENCODINGS = ("srgb", "linear")


def encode_rgb(linear: np.ndarray, encoding: str) -> np.ndarray:
    """Linear RGB in [0, 1] (H, W, 3) -> 8-bit RGB, sRGB-encoded (kornia's transfer curve) or kept linear."""
    x = np.clip(linear, 0.0, 1.0).astype(np.float32)
    if encoding == "srgb":
        import kornia
        import torch

        x = kornia.color.linear_rgb_to_rgb(torch.from_numpy(x).permute(2, 0, 1)).permute(1, 2, 0).numpy()
    return np.round(np.clip(x, 0.0, 1.0) * 255).astype(np.uint8)


def colour_to_pairs(src: str | Path, out: str | Path, camera: Camera, *, weights=LUMINANCE, bits: int = 16,
                    rgb_encoding: str = "srgb", progress: bool = True) -> PairsReport:
    """Write ``out/rgb`` (8-bit RGB, BDD100K layout) and ``out/polar`` (polaraug layout, split train) from
    every colour frame of ``src``.

    Args:
        src: folder of colour captures (see ``captures.py``).
        out: the paired folder to write.
        camera: the polarizer model (and, for raw mosaics, the colour pattern and bit depth).
        weights: R, G, B weights of the mono twin (default BT.601 luminance).
        bits: depth of the polarimetric PNGs (8 or 16).
        rgb_encoding: "srgb" (as a camera's JPEG) or "linear" (the sensor's s0 / 2).
        progress: show a progress bar.

    Returns:
        Frames written, unreadable frames skipped (named with their error), and each frame's per-colour
        statistics.

    Raises:
        DatasetError: no readable frame at all; ValueError: bad weights.
    """
    if rgb_encoding not in RGB_ENCODINGS:
        raise ValueError(f"rgb_encoding must be one of {RGB_ENCODINGS}, got {rgb_encoding!r}")
    out = Path(out)
    w = np.asarray(weights, np.float64)
    to_mono(np.zeros(12, np.float32), w)  # checks the weights before any work
    a = camera.matrix(np.float64)
    mono_camera = dataclasses.replace(camera, colour_dofp_pattern=None, dofp_pattern=None, path=None)
    writer = PolarSetWriter(out / "polar", mono_camera, bits=bits, created_by="polaraug colour-pairs",
                            extra={"source": str(Path(src).resolve()), "luminance_weights": w.tolist(),
                                   "rgb_encoding": rgb_encoding})
    report = PairsReport()
    rgb_frames: list[Frame] = []
    for frame in tqdm(scan_colour(src), desc="colour-pairs", unit="frame", disable=not progress):
        try:
            y = read_colour_frame(frame, camera)
        except (ImageReadError, OSError) as e:
            report.unreadable.append(str(e))
            continue
        report.stats[frame.name] = colour_report(y, a, w)
        mono = to_mono(y, w / w.sum())
        rgb_path = out / "rgb" / "images" / "100k" / "train" / f"{frame.name}.png"
        write_image(rgb_path, encode_rgb(colour_s0(y, a) / 2, rgb_encoding))
        h, w_px = mono.shape[:2]
        rgb_frames.append(Frame(f"{frame.name}.png", rgb_path, [], w_px, h, split="train"))
        writer.add(Frame(f"{frame.name}.png", rgb_path, [], split="train"), mono)
        report.written += 1
    if not report.written:
        raise DatasetError(Path(src), f"no readable colour frame ({len(report.unreadable)} unreadable)")
    write_bdd100k_labels(rgb_frames, out / "rgb" / "labels" / "det_20" / "det_train.json")
    writer.close()
    return report
