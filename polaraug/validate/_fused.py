"""One compiled pass over a stored 4-channel frame that gathers every statistic ``validate`` reports.

The NumPy/torch path (:func:`polaraug.validate.stats.frame_report` for other inputs) converts the
integers to floats, computes full Stokes, DoLP, AoLP and violation maps, then reduces them in a dozen
further passes; on the 2-core VM that cost more than decoding the PNG. Here each pixel is read once, as
stored, and only sums, counts and histogram bins are kept (numba, compiled on first use and cached).

Numerics: per-pixel arithmetic in float64 (the array path uses float32) and a polynomial atan2 (max error
2e-6 rad). Both paths bin with the same small upward offset (``stats.BIN_EPS``), so the values integer data put
exactly on a bin edge (DoLP 0.5, AoLP 90°, ...) land in the same bin whatever their rounding; counts, means
and histograms agree with the array path up to rounding at thresholds.
"""

from __future__ import annotations

import math

import numpy as np

from polaraug.physics._jit import compiled

_KERNEL = None


def _atan2(y: float, x: float) -> float:
    """atan2 by octant reduction and a degree-11 odd minimax polynomial of atan on [0, 1] (|error| < 2e-6),
    written with conditional expressions only, so that loops calling it vectorize."""
    ax, ay = abs(x), abs(y)
    hi, lo = max(ax, ay), min(ax, ay)
    t = lo / hi if hi > 0 else 0.0
    t2 = t * t
    r = t * (0.99997726 + t2 * (-0.33262347 + t2 * (0.19354346 + t2 * (-0.11643287 + t2 * (0.05265332
                                                                                        - t2 * 0.01172120)))))
    r = 0.5 * math.pi - r if ay > ax else r
    r = math.pi - r if x < 0 else r
    return math.copysign(r, y)  # as atan2: y = −0.0 gives −π for x < 0


def _stats(raw, inv_top, top, p, q, tol, n_dolp, dolp_max, n_aolp, bin_eps, dolp_above, out_hist_dolp,
           out_hist_aolp):
    """Sums over the pixels of ``raw`` (H, W, 4); histograms are accumulated into the two output arrays.

    Row by row: the row's four channels copied into planes (the interleaved layout keeps the compiler
    from vectorizing the maths: 4.4 ms against 2.4 ms a 640×480 uint16 frame, one thread), a branch-free
    loop over the planes that vectorizes (the maths, the sums and counts, each pixel's DoLP and AoLP bin), then a
    loop that scatters the row into the histograms.

    Returns: (sum r², max |r|, inadmissible, sum DoLP, DoLP > dolp_above, saturated, zero, over full scale)
    with r the calibration residual q · y.
    """
    h, w = raw.shape[0], raw.shape[1]
    # A† and q as scalars: loads from arrays inside the loop could alias its stores and would repeat per pixel
    p00, p01, p02, p03 = p[0, 0], p[0, 1], p[0, 2], p[0, 3]
    p10, p11, p12, p13 = p[1, 0], p[1, 1], p[1, 2], p[1, 3]
    p20, p21, p22, p23 = p[2, 0], p[2, 1], p[2, 2], p[2, 3]
    q0, q1, q2, q3 = q[0], q[1], q[2], q[3]
    over = 0
    r2 = 0.0
    r_max = 0.0
    bad = 0
    dolp_sum = 0.0
    above = 0
    sat = 0
    zero = 0
    dolp_scale = n_dolp / dolp_max
    aolp_scale = n_aolp / math.pi
    planes = np.empty((4, w), np.float64)
    residual = np.empty(w, np.float64)
    bin_d = np.empty(w, np.int64)
    bin_a = np.empty(w, np.int64)
    weight = np.empty(w, np.float64)
    for i in range(h):
        _row_planes(raw, i, planes)
        for j in range(w):
            c0, c1, c2, c3 = planes[0, j], planes[1, j], planes[2, j], planes[3, j]
            sat += (c0 >= top) | (c1 >= top) | (c2 >= top) | (c3 >= top)
            zero += (c0 <= 0) | (c1 <= 0) | (c2 <= 0) | (c3 <= 0)
            over += (c0 > top) | (c1 > top) | (c2 > top) | (c3 > top)
            y0, y1, y2, y3 = c0 * inv_top, c1 * inv_top, c2 * inv_top, c3 * inv_top
            s0 = p00 * y0 + p01 * y1 + p02 * y2 + p03 * y3
            s1 = p10 * y0 + p11 * y1 + p12 * y2 + p13 * y3
            s2 = p20 * y0 + p21 * y1 + p22 * y2 + p23 * y3
            r = abs(q0 * y0 + q1 * y1 + q2 * y2 + q3 * y3)
            r2 += r * r
            residual[j] = r
            n = math.sqrt(s1 * s1 + s2 * s2)
            bad += not n - s0 <= tol
            dolp = n / s0 if s0 > 0 else 0.0
            dolp_sum += dolp
            above += dolp > dolp_above
            bin_d[j] = min(int(min(max(dolp, 0.0), dolp_max) * dolp_scale + bin_eps), n_dolp - 1)
            # AoLP in [0, π]: ½ (atan2(−s2, −s1) + π), as the array path computes it
            bin_a[j] = min(max(int(0.5 * (_atan2(-s2, -s1) + math.pi) * aolp_scale + bin_eps), 0), n_aolp - 1)
            weight[j] = min(max(dolp, 0.0), 1.0)
        # the max (a select chain) and the scatter do not vectorize: kept out of the loop above
        r_max = _scatter_row(residual, bin_d, bin_a, weight, out_hist_dolp, out_hist_aolp, r_max)
    return r2, r_max, bad, dolp_sum, above, sat, zero, over


def _row_planes(raw, i, planes):
    """Row ``i`` of ``raw`` (H, W, 4) into ``planes`` (4, W) (inlined into the kernel)."""
    for j in range(raw.shape[1]):
        planes[0, j], planes[1, j], planes[2, j], planes[3, j] = raw[i, j, 0], raw[i, j, 1], raw[i, j, 2], raw[i, j, 3]


def _scatter_row(residual, bin_d, bin_a, weight, out_hist_dolp, out_hist_aolp, r_max):
    """A row's DoLP and AoLP bins into the histograms; returns the running max of the residual (inlined)."""
    for j in range(residual.shape[0]):
        r_max = max(r_max, residual[j])
        out_hist_dolp[bin_d[j]] += 1
        out_hist_aolp[bin_a[j]] += weight[j]
    return r_max


def _kernel():
    """The compiled kernel (compiled on first use and cached on disk)."""
    global _KERNEL
    if _KERNEL is None:
        # the kernel's references to its helpers resolve to their compiled, inlined versions
        for helper in (_atan2, _row_planes, _scatter_row):
            globals()[helper.__name__] = compiled(helper, inline="always", error_model="numpy")
        # reassociation lets the sums vectorize; no "fast" NaN/inf or signed-zero assumptions (the
        # inadmissible test must keep counting NaN, and AoLP at exactly 0° depends on the sign of zero)
        _KERNEL = compiled(_stats, error_model="numpy", fastmath={"reassoc", "contract", "arcp"})
        # compile now for both storage types (numba compiles lazily, per type): forked workers inherit it
        for dtype in (np.uint8, np.uint16):
            _KERNEL(np.zeros((1, 1, 4), dtype), 1.0, 1, np.zeros((3, 4)), np.zeros(4), 0.0, 1, 1.0, 1, 0.0, 1.0,
                    np.zeros(1, np.int64), np.zeros(1))
    return _KERNEL


def fused_statistics(raw: np.ndarray, top: int, a_pinv: np.ndarray, q: np.ndarray, tol: float,
                     dolp_bins: np.ndarray, aolp_bins: np.ndarray, bin_eps: float, dolp_above: float) -> dict:
    """Every per-frame statistic of ``validate`` in one pass over a stored frame.

    Args:
        raw: (H, W, 4) uint8 or uint16 intensities as stored.
        top: full scale (2**bit_depth − 1).
        a_pinv: (3, 4) pseudo-inverse of the camera matrix.
        q: (4,) unit vector orthogonal to the columns of A (the residual direction).
        tol: admissibility tolerance in [0, 1] units.
        dolp_bins, aolp_bins: uniform bin edges from 0 (DoLP up to its last edge, AoLP up to π).
        bin_eps: upward offset of every bin index (the array path's, so both bin edge values alike).
        dolp_above: DoLP counted as above 1 (1 + the array path's rounding allowance).

    Returns:
        ``pixels``, ``residual_rms``, ``residual_max``, ``inadmissible_fraction``, ``dolp_mean``,
        ``dolp_above_1_fraction``, ``saturated_fraction``, ``zero_fraction``, ``dolp_hist``, ``aolp_hist``,
        and ``over_full_scale`` (pixels with a value above ``top``: a file of another bit depth).
    """
    n_dolp, n_aolp = len(dolp_bins) - 1, len(aolp_bins) - 1
    hist_d = np.zeros(n_dolp, np.int64)
    hist_a = np.zeros(n_aolp, np.float64)
    r2, r_max, bad, dolp_sum, above, sat, zero, over = _kernel()(
        np.ascontiguousarray(raw), 1.0 / top, top, np.ascontiguousarray(a_pinv, np.float64),
        np.ascontiguousarray(q, np.float64), float(tol), n_dolp, float(dolp_bins[-1]), n_aolp, float(bin_eps),
        float(dolp_above), hist_d, hist_a)
    px = max(raw.shape[0] * raw.shape[1], 1)
    return {"pixels": raw.shape[0] * raw.shape[1], "residual_rms": math.sqrt(r2 / px), "residual_max": r_max,
            "inadmissible_fraction": bad / px, "dolp_mean": dolp_sum / px, "dolp_above_1_fraction": above / px,
            "saturated_fraction": sat / px, "zero_fraction": zero / px,
            "dolp_hist": hist_d.tolist(), "aolp_hist": np.round(hist_a).astype(np.int64).tolist(),
            "over_full_scale": over}
