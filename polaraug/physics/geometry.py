"""What geometric transforms of the displayed image do to polarization (CONVENTIONS.md).

These functions transform the polarization state only; moving pixels is the job of the image library
(OpenCV, kornia, albumentations). Rotating the image counter-clockwise by φ rotates every AoLP by +φ:
``(s1 + i s2) -> e^{2iφ} (s1 + i s2)``, i.e. ``I'_θ = I_{θ-φ}``. A mirror (horizontal or vertical) maps
θ -> -θ: s2 -> -s2, I45 <-> I135, AoLP -> π - AoLP. s0 and DoLP are unchanged by both.
"""

from __future__ import annotations

import math

import numpy as np

from ._backend import Array, apply_matrix, channel_dim, check_channels, matrix64, to_tensor


def stokes_rotation_matrix(phi: float) -> np.ndarray:
    """Mueller rotation (3, 3) for an image rotation by ``phi`` radians counter-clockwise."""
    c, s = math.cos(2 * phi), math.sin(2 * phi)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]], dtype=np.float64)


MIRROR = np.diag([1.0, 1.0, -1.0])  # θ -> -θ for horizontal and vertical mirrors alike


def rotate_stokes(s: Array, phi: float, dim: int | None = None) -> Array:
    """Stokes (..., 3, ...) of an image rotated counter-clockwise by ``phi`` radians."""
    t, back = to_tensor(s)
    d = channel_dim(s, dim)
    check_channels(t, d, 3, "rotate_stokes")
    return back(apply_matrix(stokes_rotation_matrix(phi), t, d))


def mirror_stokes(s: Array, dim: int | None = None) -> Array:
    """Stokes (..., 3, ...) of a horizontally or vertically mirrored image: s2 -> -s2."""
    t, back = to_tensor(s)
    d = channel_dim(s, dim)
    check_channels(t, d, 3, "mirror_stokes")
    return back(apply_matrix(MIRROR, t, d))


def _transform_intensities(y: Array, m: np.ndarray, a: Array, dim: int | None, what: str) -> Array:
    """y' = A M A† y + (y - A A† y): the Stokes part is transformed, the calibration residual kept.

    Keeping the residual makes every transform invertible; for the ideal camera it also makes rot90 and
    mirrors exact channel permutations (the residual ∝ (1, -1, 1, -1) is invariant under both).
    """
    t, back = to_tensor(y)
    d = channel_dim(y, dim)
    check_channels(t, d, 4, what)
    a64 = matrix64(a)
    a_pinv = np.linalg.pinv(a64)
    op = a64 @ m @ a_pinv + (np.eye(4) - a64 @ a_pinv)
    return back(apply_matrix(op, t, d))


def rotate_intensities(y: Array, phi: float, a: Array, dim: int | None = None) -> Array:
    """Intensities (..., 4, ...) of an image rotated counter-clockwise by ``phi`` radians (camera A (4, 3)).

    Ideal camera: φ = 90° swaps I0 <-> I90 and I45 <-> I135 exactly.
    """
    return _transform_intensities(y, stokes_rotation_matrix(phi), a, dim, "rotate_intensities")


def mirror_intensities(y: Array, a: Array, dim: int | None = None) -> Array:
    """Intensities (..., 4, ...) of a mirrored image (camera A (4, 3)); ideal camera: swaps I45 <-> I135."""
    return _transform_intensities(y, MIRROR, a, dim, "mirror_intensities")
