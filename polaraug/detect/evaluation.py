"""``polaraug eval-detection``: train an ultralytics YOLO detector with and without synthetic
(translated) polarimetric data under identical settings, over several seeds, and report the AP gain.

Arms: ``real`` (real training set only) and ``real+synthetic`` with protocol ``mix`` (the synthetic set
added, ``mix_ratio`` synthetic frames per real frame) or ``pretrain-finetune`` (train on synthetic, then
fine-tune on real from those weights). Both arms are evaluated on the same real test split, in the same
encoding, with polarization-aware augmentation (``polar_trainer``). Offline: YOLO_OFFLINE and a private
config directory are set before ultralytics is imported; models are built from YAML (no weights are
downloaded unless a local file is given).
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from polaraug.data.classes import CLASSES
from polaraug.data.export.encoded import export_encoded
from polaraug.data.polarset import read_polarset
from polaraug.encodings import check_encoding
from polaraug.io.atomic import write_text

PROTOCOLS = ("mix", "pretrain-finetune")


def offline_ultralytics(config_dir: Path) -> None:
    """Must run before ultralytics is first imported in the process."""
    os.environ.setdefault("YOLO_OFFLINE", "true")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(config_dir))
    os.environ.setdefault("MPLBACKEND", "Agg")


@dataclass
class DetectionSettings:
    """Identical for every arm. CPU defaults are demo-sized; on a GPU use e.g. imgsz 640, epochs 100."""

    encoding: str = "intensities"
    protocol: str = "mix"
    mix_ratio: float = 1.0
    seeds: tuple[int, ...] = (0, 1, 2)
    model: str = "yolov8n.yaml"
    weights: str | None = None
    epochs: int = 10
    imgsz: int = 160
    batch: int = 8
    device: str | None = None

    def __post_init__(self) -> None:
        check_encoding(self.encoding)
        if self.protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        if self.weights is not None and not Path(self.weights).is_file():
            raise ValueError(f"{self.weights}: no such weights file (nothing is downloaded)")


@dataclass
class ArmResult:
    name: str
    map50: list[float] = field(default_factory=list)
    map: list[float] = field(default_factory=list)
    per_class: dict[str, list[float]] = field(default_factory=dict)

    def summary(self) -> dict:
        def ms(v: list[float]) -> dict:
            return {"mean": statistics.fmean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0, "runs": v}

        return {"map50": ms(self.map50), "map50_95": ms(self.map),
                "per_class_ap50": {k: ms(v) for k, v in self.per_class.items()}}


def _mixed_yaml(out: Path, real: Path, synthetic: Path, ratio: float, seed: int) -> Path:
    """data.yaml training on real + a ``ratio``-sized random subset of synthetic (listed in a file)."""
    import random

    real_imgs = sorted((real / "images" / "train").glob("*.png"))
    syn_imgs = sorted((synthetic / "images").rglob("*.png"))
    k = min(len(syn_imgs), max(1, round(ratio * len(real_imgs))))
    chosen = random.Random(seed).sample(syn_imgs, k)
    listing = out / f"train_mix_s{seed}.txt"
    write_text(listing, "".join(f"{p.resolve()}\n" for p in real_imgs + chosen))
    data = yaml.safe_load((real / "data.yaml").read_text())
    data["train"] = str(listing.resolve())
    path = out / f"mix_s{seed}.yaml"
    write_text(path, yaml.safe_dump(data, sort_keys=False))
    return path


AUGMENTATION_REPORT: list[str] = []  # what polarize_pipeline changed in ultralytics' pipeline (last run)


def _train(settings: DetectionSettings, data_yaml: Path, runs: Path, name: str, seed: int,
           weights: str | None = None) -> Path:
    from ultralytics import YOLO

    from polaraug.augment.yolo import polar_trainer

    model = YOLO(weights or settings.weights or settings.model)
    trainer = polar_trainer(settings.encoding)
    model.train(data=str(data_yaml), trainer=trainer, epochs=settings.epochs,
                imgsz=settings.imgsz, batch=settings.batch, device=settings.device or "cpu", workers=0, seed=seed,
                deterministic=True, amp=False, plots=False, val=False, project=str(runs), name=name,
                exist_ok=True, verbose=False)
    AUGMENTATION_REPORT[:] = trainer.polar_report
    return Path(model.trainer.save_dir) / "weights" / "last.pt"


def _evaluate(weights: Path, test_yaml: Path, settings: DetectionSettings) -> tuple[float, float, dict[str, float]]:
    from ultralytics import YOLO

    metrics = YOLO(str(weights)).val(data=str(test_yaml), split="val", imgsz=settings.imgsz, batch=settings.batch,
                                     device=settings.device or "cpu", workers=0, plots=False, verbose=False)
    box = metrics.box
    per_class = {CLASSES[int(c)]: float(box.ap50[i]) for i, c in enumerate(box.ap_class_index)}
    return float(box.map50), float(box.map), per_class


def eval_detection(real_train: Path, real_test: Path, synthetic: Path, out: Path,
                   settings: DetectionSettings) -> dict:
    """Run both arms over all seeds; write results.json and report.md into ``out``; return the results."""
    out = Path(out)
    offline_ultralytics(out / ".ultralytics")
    data = out / "datasets"
    sets = {"real_train": real_train, "real_test": real_test, "synthetic": synthetic}
    for key, src in sets.items():
        if not (data / key / "data.yaml").is_file():
            export_encoded(read_polarset(src), data / key, settings.encoding)
    # Train on a set's every split; evaluate on the real test set's every split.
    real_yaml = _all_splits_yaml(data / "real_train")
    test_yaml = _all_splits_yaml(data / "real_test", as_val=True)
    syn_yaml = _all_splits_yaml(data / "synthetic")
    arms = {"real": ArmResult("real"), "real+synthetic": ArmResult(f"real+synthetic ({settings.protocol})")}
    runs = out / "runs"
    for seed in settings.seeds:
        w_real = _train(settings, real_yaml, runs, f"real_s{seed}", seed)
        if settings.protocol == "mix":
            w_aug = _train(settings, _mixed_yaml(out, data / "real_train", data / "synthetic", settings.mix_ratio,
                                                 seed), runs, f"mix_s{seed}", seed)
        else:
            w_pre = _train(settings, syn_yaml, runs, f"pretrain_s{seed}", seed)
            w_aug = _train(settings, real_yaml, runs, f"finetune_s{seed}", seed, weights=str(w_pre))
        for arm, w in (("real", w_real), ("real+synthetic", w_aug)):
            m50, m, pc = _evaluate(w, test_yaml, settings)
            arms[arm].map50.append(m50)
            arms[arm].map.append(m)
            for c, v in pc.items():
                arms[arm].per_class.setdefault(c, []).append(v)
    results = {"settings": {**settings.__dict__, "seeds": list(settings.seeds)},
               "augmentation": list(AUGMENTATION_REPORT), "arms": {k: v.summary() for k, v in arms.items()}}
    base, aug = results["arms"]["real"]["map50"]["mean"], results["arms"]["real+synthetic"]["map50"]["mean"]
    results["gain_map50"] = {"absolute": aug - base, "relative": (aug - base) / base if base > 0 else None}
    write_text(out / "results.json", json.dumps(results, indent=2) + "\n")
    write_report(results, out)
    return results


def _all_splits_yaml(root: Path, as_val: bool = False) -> Path:
    """A data.yaml whose train (and val) cover every split of an exported set."""
    data = yaml.safe_load((root / "data.yaml").read_text())
    splits = [f"images/{s}" for s in ("train", "val", "test") if (root / "images" / s).is_dir()]
    data["train"] = splits
    data["val"] = splits if as_val else splits[:1]
    path = root / "all.yaml"
    write_text(path, yaml.safe_dump(data, sort_keys=False))
    return path


def write_report(results: dict, out: Path) -> Path:
    """report.md with the table and a per-class AP bar chart (report_ap.png)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arms = results["arms"]
    classes = sorted({c for a in arms.values() for c in a["per_class_ap50"]})
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(classes) + 2), 3.5))
    width = 0.38
    for k, (name, arm) in enumerate(arms.items()):
        vals = [arm["per_class_ap50"].get(c, {"mean": 0})["mean"] for c in classes]
        errs = [arm["per_class_ap50"].get(c, {"std": 0})["std"] for c in classes]
        ax.bar([i + (k - 0.5) * width for i in range(len(classes))], vals, width, yerr=errs, label=name)
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    ax.set_ylabel("AP50")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "report_ap.png", dpi=100)
    plt.close(fig)
    lines = ["# Detection: real vs real + synthetic", "", f"Settings: `{json.dumps(results['settings'])}`", "",
             "| arm | mAP50 | mAP50-95 |", "|---|---|---|"]
    for name, arm in arms.items():
        lines.append(f"| {name} | {arm['map50']['mean']:.4f} ± {arm['map50']['std']:.4f} | "
                     f"{arm['map50_95']['mean']:.4f} ± {arm['map50_95']['std']:.4f} |")
    g = results["gain_map50"]
    rel = f"{100 * g['relative']:.1f} %" if g["relative"] is not None else "n/a"
    lines += ["", f"Gain in mAP50: {g['absolute']:+.4f} absolute, {rel} relative.", "",
              "![per-class AP50](report_ap.png)", ""]
    return write_text(out / "report.md", "\n".join(lines))
