"""Statistics of polarimetric frames (one small :class:`FrameReport` each) and of a set (:class:`SetReport`):
calibration residual, admissibility, DoLP/AoLP histograms, saturation."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from polaraug.cameras import Camera
from polaraug.io.capture import capture_from_array
from polaraug.io.images import ImageReadError
from polaraug.physics import DEFAULT_TOLERANCE, analyze, full_scale, pseudo_inverse
from polaraug.physics._jit import numba_available

DOLP_BINS = np.linspace(0.0, 1.2, 25)  # past 1: inadmissible
DOLP_ROUNDING = 1e-4
BIN_EPS = 1e-4  # histogram bins: see polaraug.validate._fused
AOLP_BINS = np.linspace(0.0, math.pi, 19)  # 10° bins


@dataclass
class FrameReport:
    """Statistics of one frame; fractions over its pixels; ``error`` set when it could not be read."""

    name: str
    pixels: int = 0
    residual_rms: float = 0.0
    residual_max: float = 0.0
    inadmissible_fraction: float = 0.0
    dolp_mean: float = 0.0
    dolp_above_1_fraction: float = 0.0
    saturated_fraction: float = 0.0
    zero_fraction: float = 0.0
    dolp_hist: list[int] = field(default_factory=list)
    aolp_hist: list[int] = field(default_factory=list)
    error: str | None = None
    ood: float | None = None  # out-of-distribution score (``validate --ood-model``), None when not scored


def _hist(values: np.ndarray, bins: np.ndarray, weights: np.ndarray | None = None) -> list[int]:
    """Histogram over uniform ``bins`` by bin index + bincount (np.histogram sorts: 10x slower); a value
    within rounding of a bin's lower edge counts in that bin (``BIN_EPS``, as the compiled kernel)."""
    n = len(bins) - 1
    idx = np.clip(((values - bins[0]) * (n / (bins[-1] - bins[0])) + BIN_EPS).astype(np.int64), 0, n - 1)
    counts = np.bincount(idx.ravel(), weights=None if weights is None else weights.ravel(), minlength=n)
    return np.round(counts).astype(np.int64).tolist()


def _any_channel(chans: np.ndarray, test: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Per-pixel OR of ``test`` over channels, written plane by plane (a reduction over a length-4 axis
    is slow in numpy)."""
    out = test(chans[..., 0])
    for c in range(1, chans.shape[-1]):
        out |= test(chans[..., c])
    return out


def flagged_pixels(raw: np.ndarray, camera: Camera, tol: float = DEFAULT_TOLERANCE,
                   path: str | Path | None = None) -> np.ndarray:
    """Pixels the validator flags in a stored frame: saturated in any channel, dead (0 in every channel:
    a dark pixel has some light in one of them), or inadmissible. These are what
    ``validate --repair reconstruct`` rebuilds.

    Args:
        raw: (H, W, 4) integer image as stored.
        camera: the set's camera (its ``bit_depth`` sets full scale).
        tol: admissibility tolerance in [0, 1] units.
        path: file named in errors.

    Returns:
        (H, W) bool mask, True where flagged.
    """
    top = full_scale(raw.dtype, camera.bit_depth)
    bad = _any_channel(raw, lambda c: c >= top) | ~_any_channel(raw, lambda c: c > 0)
    y = capture_from_array(raw, camera, path=path or "<array>").intensities
    return bad | (analyze(y, camera.matrix(), tol=tol).violation > tol)


@functools.lru_cache(maxsize=16)
def residual_direction(camera: Camera) -> np.ndarray:
    """The direction of every calibration residual, computed once per camera, not per frame.

    Args:
        camera: the camera; its A (4, 3) has rank 3, so residuals lie on one line.

    Returns:
        (4,) float32 unit vector orthogonal to the columns of A.
    """
    return np.linalg.svd(camera.matrix(np.float64))[0][:, 3].astype(np.float32)


def _fusable(raw: np.ndarray, camera: Camera) -> bool:
    """Whether the compiled one-pass kernel handles this frame: 4-channel 8/16-bit storage read as is (no
    DoFP demosaicing, no gain map)."""
    return (raw.ndim == 3 and raw.shape[2] == 4 and raw.dtype in (np.uint8, np.uint16)
            and camera.gain_map is None and min(raw.shape[:2]) > 0 and numba_available())


def prepare_kernel(camera: Camera) -> None:
    """Compile (or load from numba's cache) the one-pass kernel in this process when ``camera``'s frames may
    use it, so that forked workers inherit it instead of each compiling it."""
    if camera.gain_map is None and camera.dofp_pattern is None and numba_available():
        from ._fused import _kernel

        _kernel()


@functools.lru_cache(maxsize=16)
def _pinv64(camera: Camera) -> np.ndarray:
    """A† (3, 4) in float64, once per camera."""
    return np.asarray(pseudo_inverse(camera.matrix(np.float64)), np.float64)  # the array path's A†


def _fused_report(name: str, raw: np.ndarray, camera: Camera, tol: float) -> FrameReport:
    """:func:`frame_report` by one compiled pass over the stored integers (see :mod:`._fused`)."""
    from ._fused import fused_statistics

    top = int(full_scale(raw.dtype, camera.bit_depth))
    if top > full_scale(raw.dtype):
        raise ImageReadError(f"{name}: camera says {camera.bit_depth}-bit but the file holds {raw.dtype} values")
    st = fused_statistics(raw, top, _pinv64(camera), residual_direction(camera), tol, DOLP_BINS, AOLP_BINS,
                          BIN_EPS, 1 + DOLP_ROUNDING)
    if st.pop("over_full_scale"):
        raise ImageReadError(f"{name}: values up to {int(raw.max())} exceed the camera's {camera.bit_depth}-bit "
                             "range")
    return FrameReport(name=name, **st)


def frame_report(name: str, raw: np.ndarray, camera: Camera, tol: float = DEFAULT_TOLERANCE) -> FrameReport:
    """Statistics of a stored frame.

    Args:
        name: the frame's name in the report.
        raw: raw DoFP mosaic (H, W) or (H, W, 4) image, any dtype, as stored.
        camera: the set's camera.
        tol: admissibility tolerance in [0, 1] units.

    Returns:
        The frame's report (``error`` None).
    """
    if _fusable(raw, camera):
        return _fused_report(name, raw, camera, tol)
    y = capture_from_array(raw, camera, path=name).intensities
    m = analyze(y, camera.matrix(), tol=tol)
    # A (4, 3) has rank 3, so residuals live on one line: |y - A A† y| = |q · y| with q the unit vector
    # orthogonal to A's columns (one dot product per pixel instead of two matrix products).
    r_norm = np.abs(y.reshape(-1, 4) @ residual_direction(camera)).reshape(y.shape[:-1])
    dolp = m.dolp
    top = full_scale(raw.dtype, camera.bit_depth)
    chans = raw if raw.ndim == 3 else raw[..., None]
    return FrameReport(
        name=name, pixels=int(dolp.size), residual_rms=float(np.sqrt(np.mean(r_norm**2))),
        residual_max=float(r_norm.max()), inadmissible_fraction=m.inadmissible_fraction,
        dolp_mean=float(np.mean(dolp)),
        # 1 + 1e-4: pixels projected onto the cone sit at DoLP 1 and float32 rounds half of them above it
        dolp_above_1_fraction=float(np.count_nonzero(dolp > 1 + DOLP_ROUNDING) / dolp.size),
        saturated_fraction=float(np.count_nonzero(_any_channel(chans, lambda c: c >= top)) / dolp.size),
        zero_fraction=float(np.count_nonzero(_any_channel(chans, lambda c: c <= 0)) / dolp.size),
        dolp_hist=_hist(np.clip(dolp, 0, DOLP_BINS[-1]), DOLP_BINS),
        aolp_hist=_hist(m.aolp, AOLP_BINS, np.clip(dolp, 0, 1)),
    )


@dataclass
class SetReport:
    """Frame reports of a set (in frame order) and how they were made."""

    root: str
    layout: str
    camera: str
    tolerance: float
    frames: list[FrameReport]

    def aggregate(self) -> dict:
        """Set statistics: pixel-weighted means of the readable frames' fractions, pooled RMS, summed
        histograms, counts of frames."""
        ok = [f for f in self.frames if f.error is None]
        px = sum(f.pixels for f in ok) or 1

        def pooled(attr: str) -> float:
            return sum(getattr(f, attr) * f.pixels for f in ok) / px

        return {
            "frames": len(self.frames), "unreadable": len(self.frames) - len(ok),
            "residual_rms": math.sqrt(sum(f.residual_rms**2 * f.pixels for f in ok) / px),
            "residual_max": max((f.residual_max for f in ok), default=0.0),
            "inadmissible_fraction": pooled("inadmissible_fraction"),
            "frames_with_inadmissible": sum(f.inadmissible_fraction > 0 for f in ok),
            "dolp_mean": pooled("dolp_mean"), "dolp_above_1_fraction": pooled("dolp_above_1_fraction"),
            "saturated_fraction": pooled("saturated_fraction"), "zero_fraction": pooled("zero_fraction"),
            "dolp_hist": np.sum([f.dolp_hist for f in ok], axis=0).tolist() if ok else [],
            "aolp_hist": np.sum([f.aolp_hist for f in ok], axis=0).tolist() if ok else [],
            **self._ood_aggregate(),
        }

    def _ood_aggregate(self) -> dict:
        """Mean and max OOD score over the scored frames (empty when no frame was scored)."""
        scores = [f.ood for f in self.frames if f.ood is not None]
        if not scores:
            return {}
        return {"ood_mean": float(np.mean(scores)), "ood_max": float(np.max(scores)), "ood_frames": len(scores)}

    def most_ood(self, k: int = 5) -> list[FrameReport]:
        """The ``k`` scored frames with the highest OOD score."""
        return sorted((f for f in self.frames if f.ood is not None), key=lambda f: f.ood, reverse=True)[:k]

    def worst(self, k: int = 5) -> list[FrameReport]:
        """The ``k`` readable frames with the most inadmissible pixels (then the largest residual)."""
        ok = [f for f in self.frames if f.error is None]
        return sorted(ok, key=lambda f: (f.inadmissible_fraction, f.residual_rms), reverse=True)[:k]

    def lines(self) -> list[str]:
        """Human-readable summary, one fact a line."""
        g = self.aggregate()
        out = [f"set                    {self.root} ({self.layout}, {g['frames']} frames, camera {self.camera})",
               f"unreadable frames      {g['unreadable']}",
               f"inadmissible pixels    {100 * g['inadmissible_fraction']:.4f} % (tolerance {self.tolerance:g}; "
               f"{g['frames_with_inadmissible']} frames affected)",
               f"calibration residual   rms {g['residual_rms']:.5f}, max {g['residual_max']:.5f}",
               f"DoLP                   mean {g['dolp_mean']:.4f}, > 1: {100 * g['dolp_above_1_fraction']:.4f} %",
               f"saturated / zero       {100 * g['saturated_fraction']:.3f} % / {100 * g['zero_fraction']:.3f} %"]
        out += self._colour_lines()
        if "ood_mean" in g:
            out.append(f"out-of-distribution    mean {g['ood_mean']:.3f}, max {g['ood_max']:.3f} over "
                       f"{g['ood_frames']} frames; highest: "
                       + ", ".join(f"{f.name} ({f.ood:.3f})" for f in self.most_ood()))
        worst = [f for f in self.worst() if f.inadmissible_fraction > 0]
        if worst:
            out.append("worst frames           " + ", ".join(f"{f.name} ({100 * f.inadmissible_fraction:.3f} %)"
                                                         for f in worst))
        for f in self.frames:
            if f.error:
                out.append(f"unreadable             {f.error}")
        return out

    def _colour_lines(self) -> list[str]:
        """For colour sets (frames named ``STEM [R]`` ... ``STEM [luminance]``): one line per part."""
        parts: dict[str, list[FrameReport]] = {}
        for f in self.frames:
            if f.error is None and f.name.endswith("]") and " [" in f.name:
                parts.setdefault(f.name.rsplit(" [", 1)[1][:-1], []).append(f)
        out = []
        for part, frames in parts.items():
            px = sum(f.pixels for f in frames) or 1
            mean = {k: sum(getattr(f, k) * f.pixels for f in frames) / px
                    for k in ("dolp_mean", "inadmissible_fraction", "residual_rms")}
            out.append(f"  {part:<20} DoLP mean {mean['dolp_mean']:.4f}, inadmissible "
                       f"{100 * mean['inadmissible_fraction']:.4f} %, residual rms {mean['residual_rms']:.5f}")
        return out

    def to_dict(self) -> dict:
        """The report as JSON-ready dict: set fields, ``aggregate`` and every frame's report."""
        return {"root": self.root, "layout": self.layout, "camera": self.camera, "tolerance": self.tolerance,
                "aggregate": self.aggregate(), "frames": [asdict(f) for f in self.frames]}
