"""Estimate a camera's calibration from captures.

(a) ``fit_from_polarizer``: captures of a linear polarizer at known angles α_k (fully polarized light,
    Stokes ∝ (1, cos 2α_k, sin 2α_k)). Least squares for A in Y = A S, then A -> angles, gains, ERs.
(b) ``gains_from_redundancy``: ordinary captures. An ideal camera satisfies I0 + I90 = I45 + I135 (both
    equal s0); with per-channel gains g it does not. The inverse gains w are the null vector of
    ``[m0, -m1, m2, -m3]`` over all pixels. Identifiable only if the scene shows varied polarization.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from polaraug.errors import InputError
from polaraug.physics import decompose_camera_matrix


@dataclass
class PolarizerFit:
    """A (4, 3) normalised to mean gain 1; angles/gains/ERs per channel; rms residual in input units."""

    matrix: np.ndarray
    angles_deg: np.ndarray
    gains: np.ndarray
    extinction_ratios: np.ndarray
    rms_residual: float


def fit_from_polarizer(means: np.ndarray, polarizer_angles_deg: Sequence[float]) -> PolarizerFit:
    """Fit A from per-capture channel means.

    means: (K, 4) mean intensity of each channel in capture k (saturated pixels excluded beforehand);
    polarizer_angles_deg: (K,) analyser angle of each capture, CCW from image +x. Needs K >= 3 distinct
    angles modulo 180°. The light level is unknown, so A is normalised to a mean gain of 1.

    Args:
        means: (K, 4) channel means, one row per capture.
        polarizer_angles_deg: (K,) polarizer angle of each capture in degrees.

    Returns:
        The fitted matrix, per-channel angles, gains and extinction ratios, and the RMS residual.

    Raises:
        InputError: non-finite values, or fewer than 3 distinct polarizer orientations.
        ValueError: ``means`` is not (K, 4) with one angle per row.
    """
    y = np.asarray(means, dtype=np.float64)
    alpha = np.deg2rad(np.asarray(polarizer_angles_deg, dtype=np.float64))
    if not (np.isfinite(y).all() and np.isfinite(alpha).all()):
        raise InputError("channel means and polarizer angles must be finite numbers")
    if y.ndim != 2 or y.shape[1] != 4 or y.shape[0] != alpha.shape[0]:
        raise ValueError(f"need (K, 4) channel means and K angles, got {y.shape} and {alpha.shape}")
    s = np.stack([np.ones_like(alpha), np.cos(2 * alpha), np.sin(2 * alpha)], axis=1)  # (K, 3)
    if np.linalg.matrix_rank(s, tol=1e-6) < 3:
        raise InputError(
            "polarizer angles must include at least 3 distinct orientations (modulo 180°), "
            f"got {np.asarray(polarizer_angles_deg).tolist()}"
        )
    a_t, *_ = np.linalg.lstsq(s, y, rcond=None)  # solves S A^T = Y
    a = a_t.T
    angles, gains, ers = decompose_camera_matrix(a)
    scale = gains.mean()
    rms = float(np.sqrt(np.mean((s @ a.T - y) ** 2)))
    return PolarizerFit(a / scale, angles, gains / scale, ers, rms)


@dataclass
class GainFit:
    """gains (4,) normalised to mean 1; conditioning = λ2/λ1 of the normal matrix (large is good)."""

    gains: np.ndarray
    conditioning: float
    rms_redundancy_before: float
    rms_redundancy_after: float


MIN_CONDITIONING = 10.0  # λ2/λ1: the null vector must stand out from the next direction
MIN_SPREAD = 1e-6  # λ2/λ4: the scene must excite more than one polarization direction


def gains_from_redundancy(y: np.ndarray) -> GainFit:
    """Per-channel gains from ordinary captures: y (N, 4) valid pixel intensities (any units).

    Args:
        y: (N, 4) valid pixel intensities, N >= 16.

    Returns:
        The gains normalised to mean 1, the conditioning and the redundancy RMS before and after.

    Raises:
        InputError: non-finite intensities, or the scene does not constrain the gains (too little
            polarization diversity).
        ValueError: ``y`` is not (N >= 16, 4).
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2 or y.shape[1] != 4 or y.shape[0] < 16:
        raise ValueError(f"need at least 16 pixels of 4 channels, got shape {y.shape}")
    if not np.isfinite(y).all():
        raise InputError("pixel intensities must be finite")
    m = y * np.array([1.0, -1.0, 1.0, -1.0])
    evals, evecs = np.linalg.eigh(m.T @ m)  # ascending, all >= 0 up to rounding
    evals = np.maximum(evals, 0.0)
    w = evecs[:, 0]
    w = w * np.sign(w.sum())
    top = max(evals[3], 1e-300)
    conditioning = float(evals[1] / max(evals[0], 1e-15 * top))
    if np.any(w <= 0) or conditioning < MIN_CONDITIONING or evals[1] / top < MIN_SPREAD:
        raise InputError(
            "the captures do not determine the gains: they need polarized regions of several AoLPs "
            f"(conditioning {conditioning:.3g} < {MIN_CONDITIONING}, inverse gains {w.round(4).tolist()})"
        )
    gains = 1.0 / w
    gains /= gains.mean()
    before = float(np.sqrt(np.mean((m.sum(axis=1)) ** 2)))
    after = float(np.sqrt(np.mean((m / gains).sum(axis=1) ** 2)))
    return GainFit(gains, conditioning, before, after)



def gains_from_unpolarized(y: np.ndarray, a: np.ndarray, *, robust: bool) -> np.ndarray:
    """Per-channel gain factors from pixels of (mostly) unpolarized light.

    Unpolarized light of total intensity s0 gives ``y_k = c_k A[k, 0] s0`` with c_k the channel's unknown
    gain factor. Each pixel's s0 is estimated from all four channels, so every pixel votes for the ratio
    ``y_k / (A[k, 0] s0)``; the factors are normalised to mean 1.

    Args:
        y: (N, 4) valid pixel intensities (any units), N >= 16.
        a: (4, 3) the camera matrix the factors correct (its gains stay in A[k, 0]).
        robust: take the median ratio (scenes that are only *mostly* unpolarized) instead of the ratio of
            sums (a flat field: every pixel unpolarized, the sums average the noise best).

    Returns:
        (4,) factors c to multiply the camera's gains with.

    Raises:
        ValueError: ``y`` is not (N >= 16, 4); InputError: no usable pixel (s0 <= 0 everywhere).
    """
    y = np.asarray(y, np.float64)
    if y.ndim != 2 or y.shape[1] != 4 or y.shape[0] < 16:
        raise ValueError(f"need at least 16 pixels of 4 channels, got shape {y.shape}")
    a0 = np.asarray(a, np.float64)[:, 0]
    per = y / a0  # each channel's own estimate of s0 (up to its gain factor)
    s0 = per.mean(axis=1, keepdims=True)
    ok = s0[:, 0] > 0
    if not ok.any():
        raise InputError("no pixel with light in it: cannot estimate gains")
    c = np.median(per[ok] / s0[ok], axis=0) if robust else per[ok].sum(axis=0) / s0[ok].sum()
    return c / c.mean()
