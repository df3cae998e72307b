"""Per-colour and luminance statistics of colour polarization frames (what ``colour-pairs`` prints and
``--json`` keeps): mean s0, DoLP, DoLP-weighted mean AoLP, inadmissible share and calibration residual."""

from __future__ import annotations

import math

import numpy as np

from polaraug.physics import analyze, calibration_residual
from polaraug.physics.colour import COLOURS, LUMINANCE, per_colour, to_mono


def _stats(y: np.ndarray, a: np.ndarray) -> dict:
    """Statistics of (H, W, 4) intensities."""
    m = analyze(y, a)
    dl, ao = np.asarray(m.dolp, np.float64), np.asarray(m.aolp, np.float64)
    ok = np.isfinite(dl) & np.isfinite(ao)
    wsum = dl[ok].sum()
    # AoLP is π-periodic: average the doubled angle, weighted by DoLP (unpolarized pixels have no angle)
    mean_aolp = (0.5 * math.atan2((dl[ok] * np.sin(2 * ao[ok])).sum(), (dl[ok] * np.cos(2 * ao[ok])).sum())
                 % math.pi) if wsum > 0 else float("nan")
    r = np.asarray(calibration_residual(y, a), np.float64)
    return {"s0_mean": float(np.asarray(m.stokes)[..., 0].mean()), "dolp_mean": float(dl[ok].mean()),
            "aolp_mean_deg": math.degrees(mean_aolp), "inadmissible_fraction": float(m.inadmissible_fraction),
            "residual_rms": float(np.sqrt((r**2).sum(-1).mean()))}


def colour_report(y: np.ndarray, a: np.ndarray, weights=LUMINANCE) -> dict:
    """{R, G, B, luminance: statistics} of one (H, W, 12) colour frame with camera A (4, 3)."""
    planes = per_colour(y)
    out = {c: _stats(np.ascontiguousarray(planes[..., k, :]), a) for k, c in enumerate(COLOURS)}
    w = np.asarray(weights, np.float64)
    out["luminance"] = _stats(to_mono(y, w / w.sum()), a)
    return out
