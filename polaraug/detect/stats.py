"""Statistics of eval-detection: mean ± std over seeds, paired differences with Student-t intervals, the
share of the oracle gap an arm closes, and when a relative gain is worth printing.

Seeds are paired: seed k of every arm starts from the same initialisation and sees its data in the same
order, so the per-seed difference to ``real`` cancels much of the seed-to-seed noise.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

# Below this baseline mAP50 a relative gain is noise divided by almost nothing (0.002 -> 0.029 is "+1350 %").
MIN_BASELINE_MAP50 = 0.10


def mean_std(values: Sequence[float]) -> dict:
    """{"mean", "std" (sample, 0 for one value), "runs"} of per-seed values."""
    v = [float(x) for x in values]
    return {"mean": statistics.fmean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0, "runs": v}


def t_quantile(level: float, df: int) -> float:
    """Two-sided Student-t quantile: P(|T| ≤ q) = level with ``df`` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.5 + level / 2, df))


def paired_difference(base: Sequence[float], other: Sequence[float], level: float = 0.95) -> dict:
    """Per-seed difference ``other - base`` with its mean and a Student-t interval.

    Args:
        base: the baseline's value per seed.
        other: the arm's value per seed, in the same seed order.
        level: interval coverage.

    Returns:
        {"mean", "low", "high", "diffs", "n"}; low/high are None with fewer than 2 seeds (no interval).

    Raises:
        ValueError: the lists differ in length or are empty (a bug: arms run over the same seeds).
    """
    if len(base) != len(other) or not base:
        raise ValueError(f"paired seeds needed, got {len(base)} and {len(other)} values")
    diffs = [float(o) - float(b) for b, o in zip(base, other, strict=True)]
    n, mean = len(diffs), statistics.fmean(diffs)
    if n < 2:
        return {"mean": mean, "low": None, "high": None, "diffs": diffs, "n": n}
    half = t_quantile(level, n - 1) * statistics.stdev(diffs) / math.sqrt(n)
    return {"mean": mean, "low": mean - half, "high": mean + half, "diffs": diffs, "n": n}


def verdict(diff: dict) -> str:
    """"better", "worse" or "no detectable difference" from a paired interval ("untested" without one)."""
    if diff["low"] is None:
        return "untested (one seed)"
    if diff["low"] > 0:
        return "better"
    if diff["high"] < 0:
        return "worse"
    return "no detectable difference"


def gap_closed(arm: dict, oracle: dict) -> float | None:
    """(arm − real) / (oracle − real) from the two paired differences to ``real``; None when the oracle is not
    better than real by a resolved margin (its interval reaches 0), where the share would be noise."""
    if oracle["low"] is None or oracle["low"] <= 0:
        return None
    return arm["mean"] / oracle["mean"]


def relative_gain(baseline: float, absolute: float) -> float | None:
    """``absolute / baseline``, or None when the baseline is below MIN_BASELINE_MAP50 (too weak to judge)."""
    return absolute / baseline if baseline >= MIN_BASELINE_MAP50 else None


def format_gain(baseline: float, diff: dict) -> str:
    """The absolute gain with its interval, and the relative gain only over a baseline that can carry one.

    >>> format_gain(0.002, {"mean": 0.027, "low": 0.01, "high": 0.044, "n": 3})
    '+0.027 [95 % CI +0.010, +0.044] (baseline mAP50 0.002 < 0.10: too weak for a relative gain)'
    >>> format_gain(0.2, {"mean": 0.02, "low": None, "high": None, "n": 1})
    '+0.020 (one seed: no interval) (+10.0 %)'
    """
    ci = ("one seed: no interval" if diff["low"] is None
          else f"95 % CI {diff['low']:+.3f}, {diff['high']:+.3f}")
    text = f"{diff['mean']:+.3f} [{ci}]" if diff["low"] is not None else f"{diff['mean']:+.3f} ({ci})"
    rel = relative_gain(baseline, diff["mean"])
    if rel is None:
        return f"{text} (baseline mAP50 {baseline:.3f} < {MIN_BASELINE_MAP50:.2f}: too weak for a relative gain)"
    return f"{text} ({100 * rel:+.1f} %)"
