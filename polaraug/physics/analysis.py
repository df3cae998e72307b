"""One fused pass from intensities to every polarimetric map a validator or viewer needs."""

from __future__ import annotations

from dataclasses import dataclass

from ._backend import Array, apply_matrix, channel_dim, check_channels, pinv, planes, to_tensor
from .cone import DEFAULT_TOLERANCE, violation_planes
from .stokes import aolp_planes, dolp_planes


@dataclass
class PolarizationMaps:
    """Results of :func:`analyze`; arrays are of the input's kind (numpy or torch).

    stokes: (..., 3, ...) on the input's channel axis; dolp, aolp, violation: (..., ...) without it;
    inadmissible_fraction: share of pixels with violation > tol.
    """

    stokes: Array
    dolp: Array
    aolp: Array
    violation: Array
    inadmissible_fraction: float


def analyze(y: Array, a: Array, tol: float = DEFAULT_TOLERANCE, dim: int | None = None) -> PolarizationMaps:
    """Stokes (A† y), DoLP, AoLP, signed cone violation and inadmissible fraction in one pass.

    y: intensities, numpy (..., 4) or torch (B, 4, H, W); a: calibration matrix (4, 3).
    """
    t, back = to_tensor(y)
    d = channel_dim(y, dim)
    check_channels(t, d, 4, "analyze")
    s = apply_matrix(pinv(a), t, d)
    s0, s1, s2 = planes(s, d)
    viol = violation_planes(s0, s1, s2)
    frac = float((viol > tol).sum()) / max(viol.numel(), 1)
    return PolarizationMaps(back(s), back(dolp_planes(s0, s1, s2)), back(aolp_planes(s1, s2)), back(viol), frac)
