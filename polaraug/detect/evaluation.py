"""``polaraug eval-detection``: train an ultralytics YOLO detector with and without synthetic
(translated) polarimetric data under identical settings, over several seeds, and report the AP gain.

Arms: ``real`` (real training set only) and ``real+synthetic`` with protocol ``mix`` (the synthetic set
added, ``mix_ratio`` synthetic frames per real frame) or ``pretrain-finetune`` (train on synthetic, then
fine-tune on real from those weights). Both arms are evaluated on the same real test split, in the same
encoding, with polarization-aware augmentation (``polar_trainer``). An optional ``rgb`` reference arm
trains the same model on RGB frames (e.g. the RGB twins of the real sets from ``polaraug synth --mode
paired``) with ultralytics' own augmentation. Every arm is also scored per weather of its test set.

Offline: YOLO_OFFLINE and a private config directory are set before ultralytics is imported; models are
built from YAML (no weights are downloaded unless a local file is given). Resumable: each finished
(arm, seed) is kept in ``OUT/scores/``; ``OUT/settings.json`` refuses a rerun with other settings.
"""

from __future__ import annotations

import json
import os
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from polaraug.data.classes import CLASSES
from polaraug.data.encodings import check_encoding
from polaraug.errors import ConfigError, InputError
from polaraug.io.atomic import write_text
from polaraug.io.fingerprint import fingerprint

from .datasets import all_splits_yaml, export_polar, export_rgb, mixed_yaml, repeated_yaml, weather_yamls
from .report import write_report

PROTOCOLS = ("mix", "pretrain-finetune")
REAL, AUGMENTED, RGB = "real", "real+synthetic", "rgb"


def offline_ultralytics(config_dir: Path) -> None:
    """Must run before ultralytics is first imported in the process."""
    os.environ.setdefault("YOLO_OFFLINE", "true")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(config_dir))
    os.environ.setdefault("MPLBACKEND", "Agg")


@dataclass(kw_only=True)
class DetectionSettings:
    """Identical for every arm. CPU defaults are demo-sized; on a GPU use e.g. imgsz 640, epochs 100.

    Keyword-only. Raises ConfigError for an unknown encoding or protocol or no seeds, InputError for a
    weights file that does not exist.
    """

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
    equal_steps: bool = False  # mix: the real arm repeats its images to the mixed set's size

    def __post_init__(self) -> None:
        check_encoding(self.encoding)
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        if self.weights is not None and not Path(self.weights).is_file():
            raise InputError(f"{self.weights}: no such weights file (nothing is downloaded)")
        if not self.seeds:
            raise ConfigError("at least one seed is needed")

    def to_dict(self) -> dict:
        return {**asdict(self), "seeds": list(self.seeds)}


@dataclass
class Score:
    """One trained model scored on a test set: overall, per class (AP50) and per weather (mAP50)."""

    map50: float
    map: float
    per_class: dict[str, float]
    by_weather: dict[str, float] = field(default_factory=dict)


def _mean_std(v: list[float]) -> dict:
    return {"mean": statistics.fmean(v), "std": statistics.stdev(v) if len(v) > 1 else 0.0, "runs": v}


def summarize(scores: list[Score]) -> dict:
    """mean ± std over seeds. A class or weather missing from a run (no test boxes) is left out of it."""
    def gather(key: str) -> dict[str, dict]:
        names = sorted({k for s in scores for k in getattr(s, key)})
        return {k: _mean_std([getattr(s, key)[k] for s in scores if k in getattr(s, key)]) for k in names}

    return {"map50": _mean_std([s.map50 for s in scores]), "map50_95": _mean_std([s.map for s in scores]),
            "per_class_ap50": gather("per_class"), "by_weather_map50": gather("by_weather")}


def gain(base: dict, other: dict) -> dict:
    b, o = base["mean"], other["mean"]
    return {"absolute": o - b, "relative": (o - b) / b if b > 0 else None}


def _train(settings: DetectionSettings, data_yaml: Path, runs: Path, name: str, seed: int, *,
           weights: str | None = None, polar: bool = True) -> Path:
    from ultralytics import YOLO

    from polaraug.augment.yolo import polar_trainer

    model = YOLO(weights or settings.weights or settings.model)
    trainer = polar_trainer(settings.encoding) if polar else None
    model.train(data=str(data_yaml), trainer=trainer, epochs=settings.epochs,
                imgsz=settings.imgsz, batch=settings.batch, device=settings.device or "cpu", workers=0, seed=seed,
                deterministic=True, amp=False, plots=False, val=False, project=str(runs.resolve()), name=name,
                exist_ok=True, verbose=False)
    if trainer is not None:  # what polarize_pipeline changed in ultralytics' pipeline, for the report
        write_text(runs.parent / "augmentation.json", json.dumps(trainer.polar_report, indent=1) + "\n")
    return Path(model.trainer.save_dir) / "weights" / "last.pt"


def _val(weights: Path, data_yaml: Path, settings: DetectionSettings):
    from ultralytics import YOLO

    runs = weights.parent.parent.parent  # OUT/runs/NAME/weights/last.pt: keep val folders inside OUT/runs
    return YOLO(str(weights)).val(data=str(data_yaml), split="val", imgsz=settings.imgsz, batch=settings.batch,
                                  device=settings.device or "cpu", workers=0, plots=False, verbose=False,
                                  project=str(runs.resolve()), name="val", exist_ok=True).box


@dataclass(frozen=True)
class ScoringSet:
    """The data.yaml files a test set is scored with: all of it, and one per weather (written once)."""

    all: Path
    weathers: dict[str, Path]

    @classmethod
    def of(cls, root: Path) -> ScoringSet:
        return cls(all_splits_yaml(root), weather_yamls(root))


def _score(weights: Path, test: ScoringSet, settings: DetectionSettings) -> Score:
    box = _val(weights, test.all, settings)
    per_class = {CLASSES[int(c)]: float(box.ap50[i]) for i, c in enumerate(box.ap_class_index)}
    by_weather = {w: float(_val(weights, y, settings).map50) for w, y in test.weathers.items()}
    return Score(float(box.map50), float(box.map), per_class, by_weather)


def _augmentation(out: Path) -> list[str]:
    path = out / "augmentation.json"
    return json.loads(path.read_text()) if path.is_file() else []


def _check_settings(out: Path, settings: dict) -> None:
    path = out / "settings.json"
    if path.is_file():
        old = json.loads(path.read_text())
        if old != settings:
            changed = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
            raise InputError(f"{out}: made with other settings ({', '.join(changed)} differ); use a new --out")
    else:
        write_text(path, json.dumps(settings, indent=2) + "\n")


def _cached(path: Path, run) -> Score:
    """Score from ``path`` if a previous run finished this (arm, seed), else ``run()`` and keep it."""
    if path.is_file():
        return Score(**json.loads(path.read_text()))
    score = run()
    write_text(path, json.dumps(asdict(score), indent=1) + "\n")
    return score


def eval_detection(real_train: Path, real_test: Path, synthetic: Path, out: Path, *, settings: DetectionSettings,
                   rgb_train: Path | None = None, rgb_test: Path | None = None, progress: bool = True) -> dict:
    """Run every arm over all seeds; write results.json and report.md into ``out``; return the results.

    Args:
        real_train: real labelled polarimetric training set (polaraug layout).
        real_test: real test set, the same for every arm.
        synthetic: translated polarimetric set added to (or pre-training) the real+synthetic arm.
        out: output folder (datasets/, runs/, scores/, settings.json, results.json, report.md).
        settings: identical for every arm.
        rgb_train: RGB training set of the optional RGB reference arm (needs ``rgb_test``).
        rgb_test: RGB test set of the reference arm (needs ``rgb_train``).
        progress: show a progress bar over (arm, seed) trainings.

    Returns:
        The results (settings, inputs, augmentation, per-arm mean ± std scores, gains), as in results.json.

    Raises:
        InputError: bad input sets, a missing weights file, or ``out`` made with other settings or inputs.
        ConfigError: only one of ``rgb_train`` and ``rgb_test`` given.
    """
    if (rgb_train is None) != (rgb_test is None):
        raise ConfigError("the rgb reference arm needs both --rgb-train and --rgb-test")
    out = Path(out)
    offline_ultralytics(out / ".ultralytics")
    inputs = {"real_train": real_train, "real_test": real_test, "synthetic": synthetic,
              "rgb_train": rgb_train, "rgb_test": rgb_test}
    # Inputs by path and content fingerprint: a re-translated synthetic set at the same path is a change.
    _check_settings(out, {**settings.to_dict(), **{k: [str(Path(v).resolve()), fingerprint(v)] if v else None
                                                    for k, v in inputs.items()}})
    data = out / "datasets"
    real = export_polar(real_train, data / "real_train", settings.encoding)
    test = export_polar(real_test, data / "real_test", settings.encoding)
    syn = export_polar(synthetic, data / "synthetic", settings.encoding)
    rgb = (export_rgb(rgb_train, data / "rgb_train"), export_rgb(rgb_test, data / "rgb_test")) if rgb_train else None

    test_set = ScoringSet.of(test)
    rgb_test_set = ScoringSet.of(rgb[1]) if rgb else None
    runs, cache = out / "runs", out / "scores"
    arms: dict[str, list[Score]] = {REAL: [], AUGMENTED: []} | ({RGB: []} if rgb else {})
    jobs = [(arm, seed) for seed in settings.seeds for arm in arms]
    for arm, seed in tqdm(jobs, desc="eval-detection", unit="training", disable=not progress):
        def run(arm=arm, seed=seed) -> Score:
            if arm == REAL:
                equal = settings.equal_steps and settings.protocol == "mix"
                data = repeated_yaml(real, syn, settings.mix_ratio) if equal else all_splits_yaml(real)
                return _score(_train(settings, data, runs, f"real_s{seed}", seed), test_set, settings)
            if arm == RGB:
                w = _train(settings, all_splits_yaml(rgb[0]), runs, f"rgb_s{seed}", seed, polar=False)
                return _score(w, rgb_test_set, settings)
            if settings.protocol == "mix":
                w = _train(settings, mixed_yaml(real, syn, settings.mix_ratio, seed), runs, f"mix_s{seed}", seed)
            else:
                pre = _train(settings, all_splits_yaml(syn), runs, f"pretrain_s{seed}", seed)
                w = _train(settings, all_splits_yaml(real), runs, f"finetune_s{seed}", seed, weights=str(pre))
            return _score(w, test_set, settings)

        arms[arm].append(_cached(cache / f"{arm.replace('+', '_')}_s{seed}.json", run))

    summary = {k: summarize(v) for k, v in arms.items()}
    results = {"settings": settings.to_dict(), "inputs": {k: str(v) if v else None for k, v in inputs.items()},
               "augmentation": _augmentation(out), "arms": summary,
               "gain_map50": gain(summary[REAL]["map50"], summary[AUGMENTED]["map50"]),
               "gain_map50_95": gain(summary[REAL]["map50_95"], summary[AUGMENTED]["map50_95"])}
    write_text(out / "results.json", json.dumps(results, indent=2) + "\n")
    write_report(results, out)
    return results
