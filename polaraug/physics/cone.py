"""Physical admissibility: the second-order cone C = {s : s0 >= ||(s1, s2)||}, and projection onto it.

Shapes as in :mod:`polaraug.physics.stokes`: numpy channels-last, torch channels-first, ``dim`` overrides.
"""

from __future__ import annotations

import torch

from ._backend import Array, apply_matrix, channel_dim, check_channels, double, pinv, planes, to_tensor
from .stokes import _safe_norm

DEFAULT_TOLERANCE = 1e-6  # in [0, 1] intensity units (CONVENTIONS.md)


def violation_planes(s0: torch.Tensor, s1: torch.Tensor, s2: torch.Tensor) -> torch.Tensor:
    """Signed cone violation ``||(s1, s2)|| - s0``: > 0 outside C, <= 0 inside."""
    return _safe_norm(s1, s2) - s0


def admissibility_violation(s: Array, dim: int | None = None) -> Array:
    """Violation map ``max(||(s1, s2)|| - s0, 0)``: Stokes (..., 3, ...) -> (..., ...), 0 where admissible.

    >>> import numpy as np
    >>> admissibility_violation(np.array([[1.0, 0.6, 0.8], [1.0, 3.0, 4.0]], np.float32)).tolist()
    [0.0, 4.0]
    """
    t, back = to_tensor(s)
    d = channel_dim(s, dim)
    check_channels(t, d, 3, "admissibility_violation")
    return back(torch.clamp(violation_planes(*planes(t, d)), min=0))


def inadmissible_fraction(s: Array, tol: float = DEFAULT_TOLERANCE, dim: int | None = None) -> float:
    """Fraction of pixels with ``||(s1, s2)|| - s0 > tol`` or NaN: Stokes (..., 3, ...) -> float in [0, 1]."""
    t, _ = to_tensor(s)
    d = channel_dim(s, dim)
    check_channels(t, d, 3, "inadmissible_fraction")
    with torch.no_grad():
        bad = ~(violation_planes(*planes(t, d)) <= tol)  # NaN counts as inadmissible
        return float(bad.sum()) / max(bad.numel(), 1)


def project_planes(
    s0: torch.Tensor, s1: torch.Tensor, s2: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Closed-form Euclidean projection of Stokes planes onto C, with n = ||(s1, s2)||.

    - n <= s0: keep s;  - n <= -s0: 0;  - otherwise ((s0 + n) / 2) * (1, s1 / n, s2 / n).
    Gradients are finite everywhere, including the apex s = 0 and the edge n = |s0|.
    """
    n = _safe_norm(s1, s2)
    inside = n <= s0
    polar = n <= -s0  # in the polar cone: nearest admissible point is the apex
    half = 0.5 * (s0 + n)
    # In the third branch n > |s0| >= 0, so n > 0; the where() keeps the unused branches NaN-free.
    scale = half / torch.where(inside | polar, torch.ones_like(n), n)
    zero = torch.zeros_like(s0)
    p0 = torch.where(inside, s0, torch.where(polar, zero, half))
    p1 = torch.where(inside, s1, torch.where(polar, zero, scale * s1))
    p2 = torch.where(inside, s2, torch.where(polar, zero, scale * s2))
    return p0, p1, p2


def project_to_cone(s: Array, dim: int | None = None) -> Array:
    """Nearest admissible Stokes vector Π_C(s): (..., 3, ...) -> (..., 3, ...).

    >>> import numpy as np
    >>> project_to_cone(np.array([[1.0, 0.5, 0.0], [1.0, 3.0, 0.0], [-2.0, 1.0, 0.0]], np.float32)).tolist()
    [[1.0, 0.5, 0.0], [2.0, 2.0, 0.0], [0.0, 0.0, 0.0]]
    """
    t, back = to_tensor(s)
    d = channel_dim(s, dim)
    check_channels(t, d, 3, "project_to_cone")
    return back(torch.stack(project_planes(*planes(t, d)), dim=d))


def repair_intensities(y: Array, a: Array, dim: int | None = None, margin: float = 0.0) -> Array:
    """Repair ``y <- A Π_C(A† y)``: intensities (..., 4, ...) -> admissible, calibration-consistent ones.

    The calibration residual is dropped: the result lies in the range of A by construction. Computed in
    float64 and returned in y's dtype. Rounding to float32 can leave violations of order
    ``eps32 * cond(A)`` (below 1e-6 for cameras with extinction ratios above ~5); ``margin`` > 0 projects
    onto the slightly narrower cone ``s0 >= ||(s1, s2)|| + margin`` so that a stated tolerance holds after
    rounding. Repaired intensities can exceed 1 (e.g. repaired saturated pixels).

    Examples:
        >>> import numpy as np
        >>> from polaraug.physics import camera_matrix
        >>> y = np.array([1.0, 0.0, 0.0, 0.0], np.float32)  # DoLP 2 and a residual: no light does this
        >>> [round(v, 4) for v in repair_intensities(y, camera_matrix()).tolist()]
        [0.75, 0.375, 0.0, 0.375]
    """
    t, back = to_tensor(y)
    d = channel_dim(y, dim)
    check_channels(t, d, 4, "repair_intensities")
    t64 = t.double()
    s0, s1, s2 = planes(apply_matrix(pinv(a), t64, d), d)
    p0, p1, p2 = project_planes(s0 - margin, s1, s2)
    s_proj = torch.stack((p0 + margin, p1, p2), dim=d)
    return back(apply_matrix(double(a), s_proj, d).to(t.dtype))
