"""Integer encoding of intensities that keeps every pixel admissible.

Rounding four channels independently moves s0 - ||(s1, s2)|| by up to ~2.4 LSB, so a fully polarized
pixel that was admissible in float can fail the check after rounding. :func:`quantize_admissible` rounds,
then nudges only the failing pixels by single LSBs in the direction that restores admissibility.
"""

from __future__ import annotations

import cv2
import numpy as np

from ._backend import pinv
from ._jit import compiled, numba_available
from .cone import DEFAULT_TOLERANCE
from .stokes import stokes_from_intensities

MAX_STEPS = 16
_IDEAL = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.5, -0.5, 0.0], [0.5, 0.0, -0.5]])


def _violation(q: np.ndarray, top: float, a_pinv: np.ndarray) -> np.ndarray:
    s = (q.astype(np.float64) / top) @ a_pinv.T
    return np.hypot(s[..., 1], s[..., 2]) - s[..., 0]


def quantize_admissible(y: np.ndarray, a: np.ndarray, bits: int = 16, tol: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """Intensities (..., 4) float in [0, 1] -> unsigned integers of ``bits`` (8, 12 or 16; 12-bit values
    come in uint16 containers, as 12-bit sensors deliver them), admissible at ``tol``.

    Negative values are set to 0; pixels whose brightest channel exceeds 1 are scaled down as a whole.

    Pixels that the float input already violates (beyond tol) are repaired too, as far as single-LSB
    steps allow; raises ValueError if any pixel still fails after MAX_STEPS steps.
    """
    if bits not in (8, 12, 16):
        raise ValueError(f"bits must be 8, 12 or 16, got {bits}")
    dtype = np.uint8 if bits == 8 else np.uint16
    top = float(2**bits - 1)
    y = np.clip(np.asarray(y, dtype=np.float64), 0.0, None)
    # A pixel brighter than the range is scaled down as a whole: scaling keeps it inside the cone,
    # clipping its brightest channel does not (repaired pixels of a calibrated camera can exceed 1).
    y = y / np.maximum(y.max(axis=-1, keepdims=True), 1.0)
    q = np.clip(np.round(y * top), 0, top).astype(np.int64)
    a_pinv = pinv(np.asarray(a, dtype=np.float64))  # exact for the ideal camera: no 1e-16 crumbs off the cone
    flat = q.reshape(-1, q.shape[-1])
    # Nudge until the violation is <= 0 in float64, not merely <= tol: readers that compute in float32
    # (validators) then see at most rounding noise (~1e-7), well inside tol.
    target = min(tol, 0.0)
    bad = np.flatnonzero(_violation(flat, top, a_pinv) > target)
    for _ in range(MAX_STEPS):
        if bad.size == 0:
            return q.astype(dtype)
        sub = flat[bad]
        rows = np.arange(bad.size)
        # Raise the darkest channel (it sees the orthogonal polarization: s0 up, ||(s1, s2)|| down); where
        # it cannot rise, lower the brightest one instead.
        lo = sub.argmin(axis=1)
        can_raise = sub[rows, lo] < top
        hi = sub.argmax(axis=1)
        sub[rows[can_raise], lo[can_raise]] += 1
        sub[rows[~can_raise], hi[~can_raise]] -= 1
        flat[bad] = sub
        bad = bad[_violation(flat[bad], top, a_pinv) > target]
    raise ValueError(f"{bad.size} pixels stay inadmissible after {MAX_STEPS} LSB steps (input far outside the cone?)")


def fix_admissible(q: np.ndarray, a: np.ndarray, bits: int | None = None, tol: float = DEFAULT_TOLERANCE,
                   bad: np.ndarray | None = None) -> np.ndarray:
    """Integer image (..., 4) -> the same with its few inadmissible pixels nudged by single LSBs (in place
    when ``q`` is C-contiguous; use the returned array). For already-rounded data this is much cheaper
    than re-quantizing: only violators are touched. For the ideal camera the check is exact arithmetic:
    (ΣI)² >= 4 ((I0 - I90)² + (I45 - I135)²). ``bad``: the flat indices of the inadmissible pixels when a
    caller's own pass already found them (the check is then skipped)."""
    top = float(2**bits - 1) if bits else float(np.iinfo(q.dtype).max)
    q = np.ascontiguousarray(q)  # reshape below must be a view for the fixes to land in q
    flat = q.reshape(-1, q.shape[-1])
    a64 = np.asarray(a, dtype=np.float64)
    if bad is None:
        exact = np.allclose(a64, _IDEAL, atol=1e-12)
        bad = np.flatnonzero(_ideal_violators(q).ravel() if exact else _violation(flat, top, pinv(a64)) > tol)
    elif np.asarray(bad).ndim != 1 or np.asarray(bad).dtype.kind not in "iu":
        raise TypeError(f"fix_admissible(bad=...) takes flat pixel indices, got {np.asarray(bad).dtype} "
                        f"of shape {np.shape(bad)}")
    if bad.size == 0:
        return q
    y = flat[bad].astype(np.float64) / top
    flat[bad] = quantize_admissible(y, a64, int(round(np.log2(top + 1))), tol).astype(q.dtype)
    return q


# (ΣI, 2 s1, 2 s2) of ideal-camera intensities; a pixel is admissible iff (ΣI)² >= (2 s1)² + (2 s2)².
_TWICE_STOKES = np.array([[1, 1, 1, 1], [2, 0, -2, 0], [0, 2, 0, -2]], dtype=np.float64)


def _violators(px, out):
    """out[i] = whether integer pixel px[i] (4 channels) of the ideal camera is inadmissible (int64, exact)."""
    for i in range(px.shape[0]):
        i0, i45, i90, i135 = np.int64(px[i, 0]), np.int64(px[i, 1]), np.int64(px[i, 2]), np.int64(px[i, 3])
        total = i0 + i45 + i90 + i135
        t1, t2 = 2 * (i0 - i90), 2 * (i45 - i135)
        out[i] = total * total < t1 * t1 + t2 * t2
    return out


def _ideal_violators(q: np.ndarray) -> np.ndarray:
    """Boolean map (...) of inadmissible pixels of integer ideal-camera intensities, in exact arithmetic.

    A compiled pass in int64 (exact for any 16-bit data) where numba is installed; else OpenCV does the
    arithmetic (SIMD): float32 is exact while (ΣI)² < 2**24, i.e. for 8-bit data; float64 (exact below
    2**53) otherwise."""
    if q.size == 0:
        return np.zeros(q.shape[:-1], dtype=bool)
    if q.dtype in (np.uint8, np.uint16) and numba_available():
        px = np.ascontiguousarray(q).reshape(-1, 4)
        return compiled(_violators)(px, np.empty(px.shape[0], dtype=np.bool_)).reshape(q.shape[:-1])
    dtype = np.float32 if q.dtype.itemsize == 1 else np.float64
    st = cv2.transform(q.reshape(-1, 1, 4).astype(dtype), _TWICE_STOKES)  # (N, 1, 3)
    total, t1, t2 = cv2.split(st)
    return (total * total < t1 * t1 + t2 * t2).reshape(q.shape[:-1])


def check_quantized(q: np.ndarray, a: np.ndarray, tol: float = DEFAULT_TOLERANCE, bits: int | None = None) -> int:
    """Number of inadmissible pixels of an integer image (..., 4) at ``tol`` in [0, 1] units.

    ``bits``: the data's bit depth (default: the dtype's, e.g. 16 for uint16)."""
    top = float(2**bits - 1) if bits else float(np.iinfo(q.dtype).max)
    s = stokes_from_intensities(q.astype(np.float64) / top, np.asarray(a, dtype=np.float64))
    return int(np.count_nonzero(np.hypot(s[..., 1], s[..., 2]) - s[..., 0] > tol))
