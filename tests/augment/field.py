"""A radially polarized test field: AoLP points along the radius from the image centre, DoLP grows with
the radius. A rotation about the centre or a flip/transpose through it maps the field onto itself only if
polarization is transformed correctly, which gives a check that does not depend on any convention in
polaraug's code."""

from __future__ import annotations

import math

import numpy as np

from polaraug.physics import camera_matrix, intensities_from_stokes

IDEAL = camera_matrix(dtype=np.float64)


def geometry(size: int, centre: tuple[float, float] | None = None):
    """(radial AoLP, radius) around ``centre`` (x, y in pixels; default: the image centre)."""
    cx, cy = centre if centre is not None else ((size - 1) / 2, (size - 1) / 2)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    dx, dy = xx - cx, -(yy - cy)  # displayed: y up
    r = np.hypot(dx, dy)
    return np.mod(np.arctan2(dy, dx), math.pi), r


def radial_field(size: int = 96, a: np.ndarray = IDEAL) -> np.ndarray:
    """Intensities (size, size, 4) float32 of camera ``a``."""
    aolp, r = geometry(size)
    dolp = 0.2 + 0.7 * np.clip(r / (size / 2), 0, 1)
    s0 = np.full_like(r, 0.8)
    s = np.stack([s0, s0 * dolp * np.cos(2 * aolp), s0 * dolp * np.sin(2 * aolp)], axis=-1)
    return intensities_from_stokes(s, a).astype(np.float32)


def radial_field_with_unpolarized_centre(size: int, a: np.ndarray = IDEAL) -> np.ndarray:
    """The radial field with DoLP 0 in a disc of radius 6 about the centre, where AoLP is undefined,
    rising linearly to DoLP 1 (fully polarized) from radius 36 on: (size, size, 4) float32 of camera ``a``."""
    aolp, r = geometry(size)
    dolp = np.clip((r - 6) / 30, 0, 1)
    s0 = np.full_like(r, 0.8)
    s = np.stack([s0, s0 * dolp * np.cos(2 * aolp), s0 * dolp * np.sin(2 * aolp)], axis=-1)
    return intensities_from_stokes(s, a).astype(np.float32)


def abs_aolp_error(aolp: np.ndarray, size: int) -> np.ndarray:
    """|AoLP - radial direction| per pixel (size, size), circular with period π, radians in [0, π/2]."""
    expected, _ = geometry(size)
    return np.abs(np.mod(aolp - expected + math.pi / 2, math.pi) - math.pi / 2)


def annulus(size: int, inner: float = 12.0, outer_frac: float = 0.4, centre=None) -> np.ndarray:
    """Pixels where the check applies: away from the singular centre and from borders and corners."""
    _, r = geometry(size, centre)
    return (r > inner) & (r < outer_frac * size)


def aolp_error_deg(aolp: np.ndarray, size: int, mask: np.ndarray, centre=None) -> np.ndarray:
    expected, _ = geometry(size, centre)
    err = np.mod(aolp - expected + math.pi / 2, math.pi) - math.pi / 2
    return np.degrees(np.abs(err[mask]))
