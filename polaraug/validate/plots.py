"""Pictures of a validated set: DoLP/AoLP histograms and maps of the worst frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from polaraug.cameras import Camera
from polaraug.data.polarset import PolarImage
from polaraug.io.atomic import write_text
from polaraug.io.capture import capture_from_array
from polaraug.io.images import write_image
from polaraug.physics import analyze

from .stats import AOLP_BINS, DOLP_BINS, SetReport


def _histograms(report: SetReport, path: Path) -> None:
    """The set's DoLP and AoLP histograms as one PNG at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = report.aggregate()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    axes[0].bar(DOLP_BINS[:-1], agg["dolp_hist"], width=np.diff(DOLP_BINS), align="edge")
    axes[0].axvline(1.0, color="red", lw=1)
    axes[0].set(title="DoLP (pixels; right of the red line: inadmissible)", xlabel="DoLP", yscale="log")
    axes[1].bar(np.degrees(AOLP_BINS[:-1]), agg["aolp_hist"], width=10, align="edge")
    axes[1].set(title="AoLP (weighted by DoLP)", xlabel="degrees")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_plots(report: SetReport, frames: list[PolarImage], camera: Camera, out: str | Path, k: int = 3) -> Path:
    """Write ``histograms.png``, ``worst_{1..k}.png`` (DoLP | AoLP-DoLP maps) and ``worst.json`` (names); with
    OOD scores, ``ood_{1..k}.png`` (s0 | DoLP | AoLP-DoLP of the highest-scoring frames) and ``ood.json``.

    Args:
        report: the set's report.
        frames: the set's frames (the worst are read again).
        camera: the set's camera.
        out: output folder (created).
        k: number of worst frames pictured.

    Returns:
        ``out``.
    """
    from polaraug.viz import aolp_dolp_rgb, gray_rgb

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _histograms(report, out / "histograms.png")
    by_name = {f.name: f for f in frames}
    for rank, fr in enumerate(report.worst(k)):
        cap = capture_from_array(by_name[fr.name].read(), camera, path=fr.name)
        m = analyze(cap.intensities, camera.matrix())
        tile = np.concatenate([gray_rgb(np.clip(m.dolp, 0, 1)), aolp_dolp_rgb(m.aolp, np.clip(m.dolp, 0, 1))], 1)
        write_image(out / f"worst_{rank + 1}.png", tile)
    write_text(out / "worst.json", json.dumps([f.name for f in report.worst(k)], indent=2))
    most = report.most_ood(k)
    for rank, fr in enumerate(most):  # what the OOD model finds least like real frames: s0 | DoLP | AoLP-DoLP
        cap = capture_from_array(by_name[fr.name].read(), camera, path=fr.name)
        m = analyze(cap.intensities, camera.matrix())
        dolp = np.clip(m.dolp, 0, 1)
        s0 = np.clip(m.stokes[..., 0] / 2, 0, 1)
        tile = np.concatenate([gray_rgb(s0), gray_rgb(dolp), aolp_dolp_rgb(m.aolp, dolp)], 1)
        write_image(out / f"ood_{rank + 1}.png", tile)
    if most:
        write_text(out / "ood.json", json.dumps([{"name": f.name, "ood": f.ood} for f in most], indent=2))
    return out
