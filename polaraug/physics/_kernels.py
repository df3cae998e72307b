"""Compiled per-chunk passes of :func:`polaraug.physics.analyze` (numba, compiled on first use and cached).

The torch path of a chunk is a (n, 4) × (4, 3) matrix product plus nine element-wise passes; the product
alone cost half the time (BLAS is slow at an inner dimension of 4). Here one loop reads each pixel's four
intensities once and writes the interleaved Stokes output and three Stokes planes; a second loop over the
planes (which the compiler vectorizes; the interleaved loop it does not) writes violation and DoLP and
counts inadmissible pixels. torch's vectorized atan2 (SLEEF, 1 ulp) stays: a scalar libm atan2 in a
compiled loop costs more than all the rest together, and a polynomial would miss the 1e-6 rad agreement
the array path promises. A last short loop maps atan2's result to [0, π).

Numerics: the array path's, in the input's precision (float32 stays float32), except ‖(s1, s2)‖, which is
computed in float64 (no overflow or underflow for any float32 input; for float64 input beyond 1e154).
"""

from __future__ import annotations

import math

import numpy as np

from ._jit import compiled, numba_available


def _stokes_pass(y, p, s, s0, ns1, ns2):
    """Stokes of a chunk of pixels, interleaved (the output) and as planes (for the loops that vectorize).

    Args:
        y: (n, 4) intensities, float32 or float64, C-contiguous.
        p: (3, 4) A†, y's dtype.
        s: (n, 3) output, Stokes; s0, ns1, ns2: (n,) outputs, s0, −s1 and −s2.
    """
    # A† in scalars: loads from p inside the loop could alias the stores and would be repeated per pixel.
    p00, p01, p02, p03 = p[0, 0], p[0, 1], p[0, 2], p[0, 3]
    p10, p11, p12, p13 = p[1, 0], p[1, 1], p[1, 2], p[1, 3]
    p20, p21, p22, p23 = p[2, 0], p[2, 1], p[2, 2], p[2, 3]
    for i in range(y.shape[0]):
        y0, y1, y2, y3 = y[i, 0], y[i, 1], y[i, 2], y[i, 3]
        a = p00 * y0 + p01 * y1 + p02 * y2 + p03 * y3
        b = p10 * y0 + p11 * y1 + p12 * y2 + p13 * y3
        c = p20 * y0 + p21 * y1 + p22 * y2 + p23 * y3
        s[i, 0], s[i, 1], s[i, 2] = a, b, c
        s0[i], ns1[i], ns2[i] = a, -b, -c


def _cone_pass(s0, ns1, ns2, tol, viol, dl):
    """Violation, DoLP and the inadmissible count from Stokes planes (a loop the compiler vectorizes).

    Args:
        s0, ns1, ns2: (n,) s0, −s1, −s2.
        tol: admissibility tolerance on the violation.
        viol, dl: (n,) outputs, ‖(s1, s2)‖ − s0 and DoLP (0 where s0 ≤ 0; NaN stays NaN).

    Returns:
        How many pixels are inadmissible (violation > tol, NaN included).
    """
    bad = 0
    for i in range(s0.shape[0]):
        a, b, c = s0[i], np.float64(ns1[i]), np.float64(ns2[i])
        n = math.sqrt(b * b + c * c)  # float64: float32's whole range squared fits (as torch's hypot)
        v = n - a
        viol[i] = v
        bad += 0 if v <= tol else 1
        dl[i] = 0.0 if a <= 0 else n / a
    return bad


def _aolp_finish(ao, pi):
    """atan2(−s2, −s1) in (−π, π] to ½ (atan2(−s2, −s1) + π) in [0, π), in place, in ao's precision.

    Args:
        ao: (n,) atan2's results, float32 or float64.
        pi: π in ao's dtype (for float32 slightly above π: the value ½ (π + π) can round to, mapped to 0).
    """
    for i in range(ao.shape[0]):
        v = (ao[i] + pi) * 0.5  # the sum rounds in ao's precision; halving it is exact
        ao[i] = v - pi if v >= pi else v


available = numba_available  # module attribute: tests switch the compiled path off through it


def kernel(name: str):
    """The compiled kernel ``stokes_pass``, ``cone_pass`` or ``aolp_finish``."""
    return compiled(globals()[f"_{name}"], error_model="numpy")
