"""A polarized test pattern with known AoLP and DoLP: eight 'polarizer sheets' on a weakly polarized
background, like a capture of polarizer film on a light box."""

from __future__ import annotations

import math

import cv2
import numpy as np

SHEET_AOLPS_DEG = tuple(22.5 * k for k in range(8))
SHEET_DOLP = 0.8
BACKGROUND_DOLP = 0.05


def polarized_test_pattern(height: int = 480, width: int = 640, blur_px: float = 1.5) -> np.ndarray:
    """Stokes (H, W, 3) float32, admissible everywhere (s0 in [0.3, 0.9]).

    Sheet k (a disc on a ring around the centre, counter-clockwise from the right) has AoLP 22.5°·k and
    DoLP 0.8; the centre disc is unpolarized; the background has DoLP 0.05 and AoLP varying slowly from
    0 to 90° across the width. Edges are blurred (a convex combination, so admissibility holds).
    """
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    s0 = 0.3 + 0.3 * yy / max(height - 1, 1)
    bg_aolp = 0.5 * math.pi * xx / max(width - 1, 1)
    dolp = np.full((height, width), BACKGROUND_DOLP, np.float32)
    aolp = bg_aolp
    cy, cx, r_ring, r_disc = height / 2, width / 2, 0.32 * min(height, width), 0.1 * min(height, width)
    for k, a_deg in enumerate(SHEET_AOLPS_DEG):
        ang = 2 * math.pi * k / len(SHEET_AOLPS_DEG)
        dy, dx = cy - r_ring * math.sin(ang), cx + r_ring * math.cos(ang)  # y points down: CCW as shown
        disc = (yy - dy) ** 2 + (xx - dx) ** 2 <= r_disc**2
        dolp = np.where(disc, SHEET_DOLP, dolp)
        aolp = np.where(disc, np.float32(math.radians(a_deg)), aolp)
        s0 = np.where(disc, 0.9, s0)
    centre = (yy - cy) ** 2 + (xx - cx) ** 2 <= r_disc**2
    dolp = np.where(centre, 0.0, dolp)
    s = np.stack([s0, s0 * dolp * np.cos(2 * aolp), s0 * dolp * np.sin(2 * aolp)], axis=-1).astype(np.float32)
    if blur_px > 0:
        s = cv2.GaussianBlur(s, (0, 0), blur_px, borderType=cv2.BORDER_REFLECT)
    return s
