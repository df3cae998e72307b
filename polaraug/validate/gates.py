"""Thresholds that gate a pipeline: a set passes when no aggregate value exceeds its limit."""

from __future__ import annotations

from collections.abc import Mapping

from .stats import SetReport

# option name -> aggregate value it limits
THRESHOLDS = {"max_inadmissible": "inadmissible_fraction", "max_residual": "residual_rms",
              "max_dolp_above_1": "dolp_above_1_fraction", "max_saturated": "saturated_fraction",
              "max_unreadable": "unreadable", "max_ood": "ood_mean"}


def check_thresholds(report: SetReport, limits: Mapping[str, float | None]) -> list[str]:
    """Which limits the set exceeds.

    Args:
        report: the set's report.
        limits: option name (a key of ``THRESHOLDS``) -> limit; None: not checked.

    Returns:
        One message per exceeded limit, e.g. ``max-inadmissible: 0.01 > 0``; empty: the set passes.
    """
    agg = report.aggregate()
    return [f"{key.replace('_', '-')}: {agg[THRESHOLDS[key]]:.6g} > {limit:g}"
            for key, limit in limits.items() if limit is not None and agg[THRESHOLDS[key]] > limit]


def verdict(failures: list[str], limits: Mapping[str, float | None]) -> str:
    """The last word of a validation run.

    Args:
        failures: messages of :func:`check_thresholds`.
        limits: the limits checked.

    Returns:
        ``FAIL`` when a limit is exceeded, ``PASS`` when limits were set and held, ``done`` without limits.
    """
    if failures:
        return "FAIL"
    return "PASS" if any(v is not None for v in limits.values()) else "done"
