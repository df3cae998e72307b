"""Render docs/augmentation.png: a radially polarized test pattern before and after each transform,
plain albumentations vs polaraug, AoLP as hue and DoLP as saturation.

    .venv/bin/python docs/make_augmentation_figure.py
"""

from __future__ import annotations

import math
from pathlib import Path

import albumentations as A
import cv2
import numpy as np

from polaraug.augment import albu as P
from polaraug.io.images import write_image
from polaraug.physics import analyze, camera_matrix, intensities_from_stokes
from polaraug.viz import aolp_dolp_rgb

SIZE = 160
IDEAL = camera_matrix(dtype=np.float64)


def radial_pattern(size: int) -> np.ndarray:
    """Intensities (size, size, 4): AoLP along the radius, DoLP growing outwards, a bright wedge marking
    'up' so the geometry of each transform is visible."""
    c = (size - 1) / 2
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    dx, dy = xx - c, -(yy - c)
    r, ang = np.hypot(dx, dy), np.arctan2(dy, dx)
    aolp = np.mod(ang, math.pi)
    dolp = np.clip(r / c, 0, 1) * 0.9
    s0 = np.where((np.abs(ang - math.pi / 2) < 0.25) & (r > 0.2 * c), 1.0, 0.6)
    s = np.stack([s0, s0 * dolp * np.cos(2 * aolp), s0 * dolp * np.sin(2 * aolp)], -1)
    return intensities_from_stokes(s, IDEAL).astype(np.float32)


def picture(y: np.ndarray) -> np.ndarray:
    m = analyze(y, IDEAL)
    return aolp_dolp_rgb(m.aolp, np.clip(m.dolp, 0, 1), np.clip(m.stokes[..., 0] / 1.2, 0, 1))


def label(img: np.ndarray, text: str) -> np.ndarray:
    out = img.copy()
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def main() -> None:
    y = radial_pattern(SIZE)
    rows = []
    cases = [("hflip", A.HorizontalFlip(p=1), P.PolarHorizontalFlip(p=1)),
             ("rot90", A.RandomRotate90(p=1), P.PolarRandomRotate90(p=1)),
             ("rot 30", A.Rotate(limit=(30, 30), p=1), P.PolarRotate(limit=(30, 30), p=1)),
             ("transpose", A.Transpose(p=1), P.PolarTranspose(p=1))]
    for name, plain, polar in cases:
        naive = A.Compose([plain], seed=1)(image=y)["image"]
        ours = A.Compose([polar], seed=1)(image=y)["image"]
        rows.append(np.concatenate([label(picture(y), "input"), label(picture(naive), f"naive {name}"),
                                    label(picture(ours), f"polaraug {name}")], axis=1))
    out = Path(__file__).with_name("augmentation.png")
    write_image(out, np.concatenate(rows, axis=0))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
