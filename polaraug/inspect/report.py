"""Stokes, DoLP, AoLP of one capture, as float maps, pictures and a summary (``polaraug inspect``)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from polaraug.cameras import Camera
from polaraug.errors import ConfigError
from polaraug.io.atomic import write_text
from polaraug.io.capture import Capture
from polaraug.io.images import write_image
from polaraug.physics import DEFAULT_TOLERANCE, PolarizationMaps, analyze, calibration_residual
from polaraug.viz import aolp_dolp_rgb, aolp_rgb, gray_rgb, signed_rgb

FLOAT_FORMATS = ("tiff", "npy")


@dataclass
class InspectSummary:
    """Statistics over valid pixels (not saturated, s0 > 0); fractions in [0, 1]."""

    file: str
    camera: str
    kind: str
    height: int
    width: int
    saturated_fraction: float
    mean_dolp: float
    median_dolp: float
    dolp_above_1_fraction: float
    inadmissible_fraction: float
    tolerance: float
    residual_rms: float
    residual_max: float

    def lines(self) -> list[str]:
        """Human-readable summary, one fact a line."""
        return [
            f"file                 {self.file} ({self.kind}, {self.width}x{self.height}, camera {self.camera})",
            f"saturated pixels     {100 * self.saturated_fraction:.2f} % (excluded below)",
            f"DoLP mean / median   {self.mean_dolp:.4f} / {self.median_dolp:.4f}",
            f"DoLP > 1             {100 * self.dolp_above_1_fraction:.3f} %",
            f"inadmissible pixels  {100 * self.inadmissible_fraction:.3f} % (tolerance {self.tolerance:g})",
            f"calib. residual      rms {self.residual_rms:.5f}, max {self.residual_max:.5f} (in [0, 1] units)",
        ]


def inspect_capture(
    cap: Capture, camera: Camera, out_dir: str | os.PathLike, fmt: str = "tiff", tol: float = DEFAULT_TOLERANCE
) -> InspectSummary:
    """Write s0, s1, s2, DoLP, AoLP (float32 ``fmt``), their pictures (PNG) and summary.json to ``out_dir``.

    Args:
        cap: the capture; ``cap.intensities`` (H, W, 4) float32 in [0, 1], ``cap.saturated`` (H, W) bool.
        camera: the capture's camera.
        out_dir: output folder (created).
        fmt: float map format, ``tiff`` or ``npy``.
        tol: admissibility tolerance in [0, 1] units.

    Returns:
        The summary, over valid pixels (not saturated, s0 > 0).

    Raises:
        ConfigError: unknown ``fmt``.
    """
    if fmt not in FLOAT_FORMATS:
        raise ConfigError(f"unknown float format {fmt!r}; choose one of {FLOAT_FORMATS}")
    out = Path(out_dir)
    a = camera.matrix()
    maps = analyze(cap.intensities, a, tol=tol)
    valid = ~cap.saturated & (maps.stokes[..., 0] > 0)
    summary = _summary(cap, camera, maps, valid, tol)
    _write_maps(out, maps, valid, fmt)
    # NaN (no valid pixel) is not JSON: write null.
    record = {k: (None if isinstance(v, float) and v != v else v) for k, v in asdict(summary).items()}
    write_text(out / "summary.json", json.dumps(record, indent=2, allow_nan=False) + "\n")
    return summary


def _summary(cap: Capture, camera: Camera, maps: PolarizationMaps, valid: np.ndarray, tol: float) -> InspectSummary:
    """Statistics of a capture over its ``valid`` (H, W) pixels; NaN where no pixel is valid."""
    resid = np.linalg.norm(calibration_residual(cap.intensities, camera.matrix()), axis=-1)
    s = maps.stokes
    n_valid = int(valid.sum()) or float("nan")  # fractions over no valid pixel are undefined
    dolp_v = maps.dolp[valid]
    return InspectSummary(
        file=str(cap.path), camera=camera.name, kind=cap.kind, height=int(s.shape[0]), width=int(s.shape[1]),
        saturated_fraction=float(cap.saturated.mean()),
        mean_dolp=float(dolp_v.mean()) if dolp_v.size else float("nan"),
        median_dolp=float(np.median(dolp_v)) if dolp_v.size else float("nan"),
        dolp_above_1_fraction=float((dolp_v > 1).sum() / n_valid),
        inadmissible_fraction=float((maps.violation[valid] > tol).sum() / n_valid),
        tolerance=tol,
        residual_rms=float(np.sqrt(np.mean(resid[valid] ** 2))) if valid.any() else float("nan"),
        residual_max=float(resid[valid].max()) if valid.any() else float("nan"),
    )


def _write_maps(out: Path, maps: PolarizationMaps, valid: np.ndarray, fmt: str) -> None:
    """Float maps (``fmt``) and PNG pictures of s0, s1, s2, DoLP, AoLP; colour scales from ``valid`` pixels."""
    s = maps.stokes
    floats = {"s0": s[..., 0], "s1": s[..., 1], "s2": s[..., 2], "dolp": maps.dolp, "aolp": maps.aolp}
    for name, arr in floats.items():
        write_image(out / f"{name}.{fmt}", np.ascontiguousarray(arr, dtype=np.float32))
    s0_top = float(np.percentile(s[..., 0][valid], 99.5)) if valid.any() else 1.0
    scale = float(np.percentile(np.abs(s[..., 1:][valid]), 99.5)) if valid.any() else 1.0
    pictures = {
        "s0": gray_rgb(s[..., 0], 0.0, s0_top),
        "s1": signed_rgb(s[..., 1], scale),
        "s2": signed_rgb(s[..., 2], scale),
        "dolp": gray_rgb(maps.dolp),
        "aolp": aolp_rgb(maps.aolp),
        "aolp_dolp": aolp_dolp_rgb(maps.aolp, maps.dolp, np.clip(s[..., 0] / max(s0_top, 1e-12), 0, 1)),
    }
    for name, rgb in pictures.items():
        write_image(out / f"{name}.png", rgb)
