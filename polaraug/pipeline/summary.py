"""One summary of a finished pipeline, from the files its stages wrote: admissibility per validate
stage, detection mAP per arm, reconstruction trade-off, and where the pictures are."""

from __future__ import annotations

import json
from pathlib import Path

from polaraug.detect.report import summary_lines as detection_lines
from polaraug.reconstruct.sweep import row_label as sweep_label

from .spec import Pipeline


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def summary_lines(p: Pipeline) -> list[str]:
    lines: list[str] = []
    pictures: list[Path] = []
    for stage in p.stages.values():
        folder = p.folder(stage.name)
        if stage.type == "validate" and (r := _load(folder / "report.json")):
            agg = r["aggregate"]
            lines.append(f"admissibility  {stage.name:<14} inadmissible {100 * agg['inadmissible_fraction']:.3f} % "
                         f"of pixels, residual RMS {agg['residual_rms']:.2e}, {agg['frames']} frames")
            pictures += sorted((folder / "plots").glob("*.png"))[:2]
        elif stage.type == "eval-detection" and (r := _load(folder / "results.json")):
            lines += [f"detection      {line}" for line in detection_lines(r)]
            pictures.append(folder / "report_map50.png")
        elif stage.type == "reconstruct-sweep" and (r := _load(folder / "sweep.json")):
            for row in r["table"]:
                lam, mse = sweep_label(row), row["constraint_mse"]["mean"]
                lines.append(f"reconstruction {lam:<14} constraint MSE {mse:.4f}  "
                             f"domain FID {row['fid']['mean']:.3f}  SWD {row['swd']['mean']:.1f}")
            pictures.append(folder / "tradeoff.png")
        elif stage.type in ("train", "reconstruct-train"):
            samples = sorted((folder / "samples").glob("*.png"))
            pictures += samples[-1:]
    lines += ["", "pictures:"] + [f"  {q}" for q in pictures if q.is_file()]
    return lines
