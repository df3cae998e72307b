"""``polaraug validate``: is a polarimetric set physically valid?

- :mod:`.stats`: per-frame statistics (:class:`FrameReport`) and their aggregation (:class:`SetReport`);
- :mod:`.runner`: opening a set (any layout ``scan_polarimetric`` knows) and computing every frame's
  statistics in worker processes, memory-flat;
- :mod:`.gates`: thresholds -> failures and verdict;
- :mod:`.plots`: histograms and maps of the worst frames;
- :mod:`.repair`: ``--fix`` / ``--repair project|reconstruct``;
- :mod:`.workflow`: the whole command as one call (:func:`run_validation`).
"""

from .gates import THRESHOLDS, check_thresholds, verdict
from .plots import write_plots
from .repair import fix_frame, fix_set, repairer
from .runner import OpenedSet, open_set, validate, validate_frames
from .stats import AOLP_BINS, DOLP_BINS, FrameReport, SetReport, flagged_pixels, frame_report, residual_direction
from .workflow import ValidationRun, run_validation

__all__ = [
    "AOLP_BINS",
    "DOLP_BINS",
    "THRESHOLDS",
    "FrameReport",
    "OpenedSet",
    "SetReport",
    "ValidationRun",
    "check_thresholds",
    "fix_frame",
    "fix_set",
    "flagged_pixels",
    "frame_report",
    "open_set",
    "repairer",
    "residual_direction",
    "run_validation",
    "validate",
    "validate_frames",
    "verdict",
    "write_plots",
]
