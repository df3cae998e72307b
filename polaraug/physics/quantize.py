"""Integer encoding of intensities that keeps every pixel admissible.

Rounding four channels independently moves s0 - ||(s1, s2)|| by up to ~2.4 LSB, so a fully polarized
pixel that was admissible in float can fail the check after rounding. :func:`quantize_admissible` rounds,
then nudges only the failing pixels by single LSBs toward an integer point that is admissible by
construction (see :func:`_nudge`). For the ideal camera admissibility is decided in exact integer
arithmetic, (ΣI)² >= (2 s1)² + (2 s2)², the test :func:`fix_admissible` and the validators agree with.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from ._backend import pinv
from ._jit import compiled, numba_available
from .cone import DEFAULT_TOLERANCE
from .stokes import stokes_from_intensities

MAX_STEPS = 16
QUANTIZE_DEPTHS = (8, 10, 12, 14, 16)  # sensors' ADC depths (fewer bits leave the nudge's margin no room)
_IDEAL = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.5], [0.5, -0.5, 0.0], [0.5, 0.0, -0.5]])
# The 16 corners of the rounding box [-½, ½]^4 (LSB).
_HALF_LSB_CORNERS = 0.5 * np.array(list(itertools.product((-1.0, 1.0), repeat=4)))


def _is_ideal(a64: np.ndarray) -> bool:
    """Whether A is the ideal camera, within the tolerance under which the exact integer test applies."""
    return a64.shape == _IDEAL.shape and np.allclose(a64, _IDEAL, atol=1e-12)


def _violation(q: np.ndarray, top: float, a_pinv: np.ndarray) -> np.ndarray:
    """||(s1, s2)|| - s0 (...) in [0, 1] units, float64, of intensities q (..., 4) in LSB (any dtype)."""
    flat = q.reshape(-1, q.shape[-1])
    s = (a_pinv / top) @ flat.T  # (3, N): contiguous Stokes planes (strided ones make this ~5x slower)
    s1, s2 = s[1], s[2]
    s1 *= s1
    s2 *= s2
    s1 += s2
    np.sqrt(s1, out=s1)
    s1 -= s[0]
    return s1.reshape(q.shape[:-1])


def _exact_inadmissible(q: np.ndarray) -> np.ndarray:
    """Ideal camera, integer pixels (N, 4) -> (N,) bool, exact in int64 (the small-array twin of
    :func:`_ideal_violators`)."""
    q = q.astype(np.int64, copy=False)
    total = q.sum(axis=-1)
    t1, t2 = 2 * (q[..., 0] - q[..., 2]), 2 * (q[..., 1] - q[..., 3])
    return total * total < t1 * t1 + t2 * t2


def _rounding_bound(a_pinv: np.ndarray) -> float:
    """R = max of the violation f(e) = ||(s1, s2)|| - s0, s = A† e, over rounding offsets e in [-½, ½]^4
    (LSB). f is convex, so the maximum sits on a corner of the box; f is also subadditive
    (f(x + e) <= f(x) + f(e): triangle inequality plus a linear part), so rounding any point x to the
    nearest integers raises its violation by at most R."""
    s = _HALF_LSB_CORNERS @ a_pinv.T
    return float(np.max(np.hypot(s[:, 1], s[:, 2]) - s[:, 0]))


def _targets(q: np.ndarray, a: np.ndarray, a_pinv: np.ndarray, top: float, margin: float) -> np.ndarray:
    """Integer pixels (N, 4) -> nearby integer pixels (N, 4) in [0, top] with violation <= R - margin.

    T = round(μ A Π_C(A† q) + margin · w): the intensities of q's light projected onto the cone, scaled
    by μ <= 1 so that T fits in the range, plus ``margin`` LSB of unpolarized light (w = A e0, the
    channels' response to unpolarized light of s0 = 1). With A†A = I (full column rank),
    A† (μ A Π + margin w) = μ Π + margin e0, whose violation is μ f(Π) - margin <= -margin; rounding
    adds at most R (:func:`_rounding_bound`), so margin > R makes T admissible. T >= 0 needs a physical
    camera: every row of A in the cone (gain > 0, diattenuation <= 1), so A maps the cone into
    non-negative intensities; and T <= top needs margin · w <= top (a few LSB against 255 or more).
    """
    s = q @ a_pinv.T
    s0 = s[:, 0]
    n = np.hypot(s[:, 1], s[:, 2])
    inside = n <= s0
    half = np.maximum(0.5 * (s0 + n), 0.0)  # Π_C(s) = half · (1, (s1, s2) / n) outside C; 0 in its polar cone
    scale = np.where(inside, 1.0, np.divide(half, n, out=np.zeros_like(n), where=n > 0))
    proj = s * scale[:, None]
    proj[:, 0] = np.where(inside, s0, half)
    p0 = proj @ a.T
    w = a[:, 0]
    room = np.divide(top - margin * w, p0, out=np.full_like(p0, np.inf), where=p0 > 0)
    mu = np.clip(np.minimum(np.minimum(room[:, 0], room[:, 1]), np.minimum(room[:, 2], room[:, 3])), 0.0, 1.0)
    return np.clip(np.rint(mu[:, None] * p0 + margin * w), 0, top).astype(np.int64)


def _inadmissible(q: np.ndarray, top: float, a_pinv: np.ndarray, target: float, exact: bool) -> np.ndarray:
    return _exact_inadmissible(q) if exact else _violation(q, top, a_pinv) > target


def _nudge(q: np.ndarray, a: np.ndarray, a_pinv: np.ndarray, top: float, target: float, exact: bool) -> int:
    """Walk inadmissible integer pixels q (N, 4) int64, in place, by single LSBs until each is admissible
    (violation <= target in [0, 1] units, or the exact integer test); returns how many are not after
    MAX_STEPS steps.

    Why it terminates: every pixel walks toward its own integer point T (:func:`_targets`), which is
    admissible by construction, and every step moves one channel one LSB closer to T. So ||q - T||_1
    shrinks by one per step and a pixel is admissible after at most ||q - T||_1 steps, at T at the latest;
    so ValueError needs ||q - T||_1 > MAX_STEPS. For admissible input ||q - T||_1 grows with cond(A): at
    most 7 LSB measured for real cameras (cond < 2), up to ~20 at cond 5 (extinction ratio 2). The walk
    stops at the first admissible point on the way, which is much closer (2 LSB, resp. 6, measured).
    Among the channels that can step toward T, each step takes the one that leaves the smallest violation:
    for the bright, strongly polarized pixels rounding breaks that is raising the channel that sees the
    orthogonal polarization (s0 up, ||(s1, s2)|| down), so one or two steps suffice. The greedy choice on
    its own carries no such guarantee: next to the apex (dark pixels) no single-LSB move may lower the
    violation, e.g. (1, 0, 1, 0) for a camera of extinction ratio 2 with a gain spread.
    """
    margin = _rounding_bound(a_pinv) + max(-target, 0.0) * top + 1e-6  # 1e-6 LSB: beyond float64 noise
    t = _targets(q, a, a_pinv, top, margin)
    todo = np.arange(len(q))
    c0, c1, c2 = a_pinv  # (4,) each: the Stokes change of one LSB in each channel
    for _ in range(MAX_STEPS):
        sub = q[todo]
        step = np.sign(t[todo] - sub)
        s = sub @ a_pinv.T
        # Violation after stepping channel i (n, 4); a channel already at its target is not a candidate.
        df = step.astype(np.float64)
        x1, x2 = s[:, 1:2] + df * c1, s[:, 2:3] + df * c2
        f = np.sqrt(x1 * x1 + x2 * x2) - (s[:, 0:1] + df * c0)
        f[step == 0] = np.inf
        rows, ch = np.arange(len(todo)), f.argmin(axis=1)
        sub[rows, ch] += step[rows, ch]
        q[todo] = sub
        todo = todo[_inadmissible(sub, top, a_pinv, target, exact)]
        if todo.size == 0:
            return 0
    return int(todo.size)


def quantize_admissible(y: np.ndarray, a: np.ndarray, bits: int = 16, tol: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """Intensities (..., 4) float in [0, 1] -> unsigned integers of ``bits`` (8, 10, 12, 14 or 16; 10- to
    14-bit values come in uint16 containers, as such sensors deliver them), admissible at ``tol``.

    Negative values are set to 0; pixels whose brightest channel exceeds 1 are scaled down as a whole.
    NaN and inf have no integer encoding: ValueError.

    Pixels that round to admissible integers come back plainly rounded; the others are nudged by single
    LSBs (:func:`_nudge`). Pixels that the float input already violates (beyond tol) are repaired too, as
    far as MAX_STEPS single-LSB steps allow; raises ValueError if any pixel still fails after them.
    """
    if bits not in QUANTIZE_DEPTHS:
        raise ValueError(f"bits must be one of {', '.join(map(str, QUANTIZE_DEPTHS))}, got {bits}")
    dtype = np.uint8 if bits == 8 else np.uint16
    top = float(2**bits - 1)
    a64 = np.asarray(a, dtype=np.float64)
    y = np.clip(np.asarray(y, dtype=np.float64), 0.0, None)  # a copy: scaled in place below
    if y.ndim == 0 or y.shape[-1] != a64.shape[0]:
        raise ValueError(f"intensities need {a64.shape[0]} channels on the last axis, got shape {y.shape}")
    # A pixel brighter than the range is scaled down as a whole: scaling keeps it inside the cone,
    # clipping its brightest channel does not (repaired pixels of a calibrated camera can exceed 1).
    brightest = y.max(axis=-1, keepdims=True)
    if not np.isfinite(brightest).all():
        raise ValueError("intensities must be finite: NaN and inf have no integer encoding")
    y /= np.maximum(brightest, 1.0)
    r = np.rint(y * top)  # round half to even, as np.round
    np.clip(r, 0, top, out=r)
    q = r.astype(dtype)
    a_pinv = pinv(a64)  # exact for the ideal camera: no 1e-16 crumbs off the cone
    # Admissible means violation <= 0, not merely <= tol: readers that compute in float32 (validators)
    # then see at most rounding noise (~1e-7), well inside tol; a negative tol asks for that margin.
    # For the ideal camera (tol >= 0) "<= 0" is decided exactly in integers, the test fix_admissible and
    # check_quantized agree with: q / top through A† in float64 puts pixels exactly on the cone (DoLP = 1,
    # e.g. (2, 1, 0, 1)) ~1e-16 outside or inside at random. Other cameras are decided in float64, the
    # arithmetic fix_admissible uses for them: only pixels within ~1e-16 of the cone are a toss-up there.
    target = min(tol, 0.0)
    exact = tol >= 0 and _is_ideal(a64)
    if exact:
        bad = np.flatnonzero(_ideal_violators(q).ravel())
    else:
        bad = np.flatnonzero(_violation(r.reshape(-1, r.shape[-1]), top, a_pinv) > target)
    if bad.size:
        flat = q.reshape(-1, q.shape[-1])
        sub = flat[bad].astype(np.int64)
        left = _nudge(sub, a64, a_pinv, top, target, exact)
        if left:
            raise ValueError(f"{left} pixels stay inadmissible after {MAX_STEPS} LSB steps "
                             "(input far outside the cone?)")
        flat[bad] = sub
    return q


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
        exact = _is_ideal(a64)
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
