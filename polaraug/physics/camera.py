"""Camera model: the 4x3 calibration matrix A that maps Stokes vectors to the four channel intensities.

Row i (channel i of I0, I45, I90, I135): ``a_i = (t_i / 2) * [1, d_i cos 2θ_i, d_i sin 2θ_i]`` with t_i the
channel's transmission/gain, ``d_i = (ER_i - 1) / (ER_i + 1)`` its diattenuation and θ_i its true polarizer
angle (CONVENTIONS.md). Intensities are ``y = A s``; Stokes are recovered with the pseudo-inverse A†.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._backend import Array, pinv

NOMINAL_ANGLES = (0.0, 45.0, 90.0, 135.0)


def diattenuation(extinction_ratio: Array) -> np.ndarray:
    """Diattenuation d = (ER - 1) / (ER + 1) of extinction ratios (any shape); ER = inf gives d = 1."""
    er = np.asarray(extinction_ratio, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.isinf(er), 1.0, (er - 1.0) / (er + 1.0))


def extinction_ratio(diattenuation_: Array) -> np.ndarray:
    """Inverse of :func:`diattenuation`: ER = (1 + d) / (1 - d); d >= 1 gives inf."""
    d = np.asarray(diattenuation_, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(d >= 1.0, np.inf, (1.0 + d) / np.maximum(1.0 - d, 1e-300))


def camera_matrix(
    angles_deg: Sequence[float] = NOMINAL_ANGLES,
    gains: Sequence[float] | None = None,
    extinction_ratios: Sequence[float] | None = None,
    dtype: type = np.float32,
) -> np.ndarray:
    """Calibration matrix A (4, 3) from per-channel angles (degrees), gains t_i and extinction ratios.

    Defaults describe the ideal camera: t = 1, ER = inf (d = 1), θ = 0/45/90/135°, which gives
    ``A = ½ [[1, 1, 0], [1, 0, 1], [1, -1, 0], [1, 0, -1]]``.

    Examples:
        >>> camera_matrix().tolist()
        [[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.5, -0.5, 0.0], [0.5, 0.0, -0.5]]
        >>> [round(v, 4) for v in camera_matrix(gains=[2, 1, 1, 1], extinction_ratios=[3, 1e9, 1e9, 1e9])[0].tolist()]
        [1.0, 0.5, 0.0]
    """
    theta = np.deg2rad(np.asarray(angles_deg, dtype=np.float64))
    t = np.ones_like(theta) if gains is None else np.asarray(gains, dtype=np.float64)
    d = np.ones_like(theta) if extinction_ratios is None else diattenuation(extinction_ratios)
    if not theta.shape == t.shape == d.shape == (4,):
        raise ValueError(
            f"camera_matrix needs 4 angles, gains and extinction ratios, got {theta.shape}, {t.shape}, {d.shape}"
        )
    cos, sin = np.cos(2 * theta), np.sin(2 * theta)
    # cos(π/2) is 6e-17, not 0: snap, so the ideal A is exact and grey pixels get s1 = s2 = 0 exactly.
    cos[np.abs(cos) < 1e-12] = 0.0
    sin[np.abs(sin) < 1e-12] = 0.0
    a = 0.5 * t[:, None] * np.stack([np.ones(4), d * cos, d * sin], axis=1)
    return a.astype(dtype)


def decompose_camera_matrix(a: Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`camera_matrix`: A (4, 3) -> (angles_deg (4,), gains (4,), extinction_ratios (4,)).

    Angles are wrapped to [0, 180) degrees; diattenuations above 1 (noise) are clipped to 1 (ER = inf).
    """
    a = np.asarray(a, dtype=np.float64)
    if a.shape != (4, 3):
        raise ValueError(f"calibration matrix must be 4x3, got {a.shape}")
    gains = 2.0 * a[:, 0]
    if np.any(gains <= 0):
        raise ValueError(f"calibration matrix has non-positive gains 2*A[:, 0] = {gains.tolist()}")
    d = np.minimum(2.0 * np.hypot(a[:, 1], a[:, 2]) / gains, 1.0)
    angles = np.mod(np.rad2deg(0.5 * np.arctan2(a[:, 2], a[:, 1])), 180.0)
    return angles, gains, extinction_ratio(d)


def pseudo_inverse(a: Array) -> Array:
    """Moore–Penrose pseudo-inverse A† (3, 4) of a calibration matrix A (4, 3); numpy or torch.

    For the ideal camera ``A† = [[½, ½, ½, ½], [1, 0, -1, 0], [0, 1, 0, -1]]``: s0 = ½ΣI, not I0 + I90.
    """
    return pinv(a)
