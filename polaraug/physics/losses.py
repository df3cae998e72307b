"""Auxiliary losses of the constrained CycleGAN (Blin, Ruffino et al.), differentiable in torch.

All take generated intensities y in [0, 1] units (torch (B, 4, H, W) or numpy (..., 4)) and the
calibration matrix A (4, 3); each returns a scalar (0-d tensor for torch input, float for numpy).
"""

from __future__ import annotations

import torch

from ._backend import Array, apply_matrix, channel_dim, check_channels, pinv, planes, to_tensor
from .cone import project_planes
from .stokes import projection_onto_model


def _stokes_planes(y: Array, a: Array, dim: int | None, what: str):
    t, back = to_tensor(y)
    d = channel_dim(y, dim)
    check_channels(t, d, 4, what)
    return t, d, planes(apply_matrix(pinv(a), t, d), d), back


def _scalar(x: torch.Tensor, back) -> Array:
    out = back(x)
    return float(out) if not isinstance(out, torch.Tensor) else out


def calibration_loss(y: Array, a: Array, dim: int | None = None) -> Array:
    """L_calib = mean over pixels of ||y - A A† y||² (squared norm over the 4 channels)."""
    t, d, _, back = _stokes_planes(y, a, dim, "calibration_loss")
    proj = apply_matrix(projection_onto_model(a), t, d)
    return _scalar(((t - proj) ** 2).sum(dim=d).mean(), back)


def optical_loss(y: Array, a: Array, dim: int | None = None) -> Array:
    """L_optical = mean max(s1² + s2² - s0², 0) with s = A† y (PolarCycle's admissibility penalty).

    It does not penalise s0 < 0 with small (s1, s2); that cannot occur for intensities y >= 0 on an
    ideal camera. Use :func:`proximal_distance` for a penalty that covers the whole complement of C.
    """
    _, _, (s0, s1, s2), back = _stokes_planes(y, a, dim, "optical_loss")
    return _scalar(torch.clamp(s1 * s1 + s2 * s2 - s0 * s0, min=0).mean(), back)


def proximal_distance(y: Array, a: Array, dim: int | None = None) -> Array:
    """Ω_C = mean ||s - Π_C(s)||² with s = A† y: squared Euclidean distance to the admissible cone."""
    _, _, (s0, s1, s2), back = _stokes_planes(y, a, dim, "proximal_distance")
    p0, p1, p2 = project_planes(s0, s1, s2)
    return _scalar(((s0 - p0) ** 2 + (s1 - p1) ** 2 + (s2 - p2) ** 2).mean(), back)
