"""``polaraug eval-detection``: does generated polarimetric data help a detector? Every arm trains the same
ultralytics YOLO under identical settings over the same seeds and is scored on the same real test set.

Arms (``arms.py`` builds them from the inputs):

- ``real``: the real training set alone;
- ``real+NAME`` for each synthetic set (one per translator), at each ratio of synthetic frames per real;
  an on-the-fly set is an RGB set its trainings translate as they load the frames (no stored copy);
- ``real+oracle``: the true polarimetric twins of the translated frames (what a perfect translator gives);
- ``real+NAME-unpolarized``: a set's frames with their polarization removed (same s0, DoLP 0): the control
  that tells whether the polarization of the set matters or only its intensity;
- ``rgb``: the same detector on RGB frames, a reference.

Budget ``equal-steps`` (default): every arm trains on the same number of images per epoch, the size of the
largest arm's listing (real frames repeated where an arm has fewer), so a gain cannot come from training
longer. ``equal-epochs``: each arm's listing once per epoch (the larger arms take more steps; labelled).
Protocol ``mix`` trains on real + extra frames together; ``pretrain-finetune`` on the extra frames, then on
the real ones from those weights. With ``real_val``, every training validates each epoch on that real
split and the best epoch's weights are scored (model selection on validation, never on test), and the
validation curves show whether training reached its plateau.

Offline: YOLO_OFFLINE and a private config directory are set before ultralytics is imported; models are
built from YAML (no weights are downloaded unless a local file is given). Resumable: each finished
(arm, seed) is kept in ``OUT/scores/``; ``OUT/settings.json`` refuses a rerun with other settings, and lets
one add arms (translated sets, an oracle) and seeds to a finished experiment, training only what is new.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from polaraug.data.classes import CLASSES
from polaraug.errors import ConfigError, InputError
from polaraug.io.atomic import write_text
from polaraug.io.fingerprint import fingerprint

from .arms import REAL, RGB, Arm, ExperimentInputs, TrainingPlan, arm_list, plan_arms
from .datasets import ScoringSet
from .imagestats import ImageStats, map_scores, paired_bootstrap
from .report import write_report
from .settings import BUDGETS, PROTOCOLS, DetectionSettings
from .stats import gap_closed, mean_std, paired_difference
from .validator import image_stats, recording_validator

if TYPE_CHECKING:
    from .on_the_fly import OnTheFly

__all__ = ["BUDGETS", "PROTOCOLS", "DetectionSettings", "Score", "eval_detection"]


def offline_ultralytics(config_dir: Path) -> None:
    """Must run before ultralytics is first imported in the process."""
    os.environ.setdefault("YOLO_OFFLINE", "true")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(config_dir))
    os.environ.setdefault("MPLBACKEND", "Agg")


@dataclass
class Score:
    """One trained model scored on a test set: overall, per class (AP50), per weather and per condition
    (mAP50; the condition is "night" for night frames, else the weather), with the validation mAP50 per epoch
    when a validation split was given, and the wall-clock seconds its training and scoring took (None in
    scores saved before they were recorded)."""

    map50: float
    map: float
    per_class: dict[str, float]
    by_weather: dict[str, float] = field(default_factory=dict)
    val_curve: list[float] = field(default_factory=list)
    by_condition: dict[str, float] = field(default_factory=dict)
    seconds: float | None = None


def summarize(scores: list[Score]) -> dict:
    """mean ± std over seeds. A class or weather missing from a run (no test boxes) is left out of it."""
    def gather(key: str) -> dict[str, dict]:
        names = sorted({k for s in scores for k in getattr(s, key)})
        return {k: mean_std([getattr(s, key)[k] for s in scores if k in getattr(s, key)]) for k in names}

    return {"map50": mean_std([s.map50 for s in scores]), "map50_95": mean_std([s.map for s in scores]),
            "per_class_ap50": gather("per_class"), "by_weather_map50": gather("by_weather"),
            "by_condition_map50": gather("by_condition")}


def compare(base: list[Score], other: list[Score]) -> dict:
    """Paired per-seed differences ``other - base``: overall, per weather and per class (where both have it)."""
    def per(key: str) -> dict[str, dict]:
        names = sorted(set.intersection(*[set(getattr(s, key)) for s in base + other]))
        return {k: paired_difference([getattr(s, key)[k] for s in base], [getattr(s, key)[k] for s in other])
                for k in names}

    return {"map50": paired_difference([s.map50 for s in base], [s.map50 for s in other]),
            "map50_95": paired_difference([s.map for s in base], [s.map for s in other]),
            "by_weather_map50": per("by_weather"), "per_class_ap50": per("per_class"),
            "by_condition_map50": per("by_condition")}


def compare_bootstrap(base: list[ImageStats], other: list[ImageStats], groups: dict[str, list[str]],
                      n_boot: int) -> dict:
    """Paired bootstrap over test images of ``other - base`` (seed-averaged mAP50): on every test image and
    on each condition's images."""
    return {"map50": paired_bootstrap(base, other, n_boot=n_boot),
            "by_condition_map50": {g: paired_bootstrap(base, other, images=stems, n_boot=n_boot)
                                   for g, stems in groups.items()}}


def _weights_of(run_dir: Path, validated: bool) -> Path:
    """The weights an arm is scored with: the best validation epoch's when validated, else the last."""
    best = run_dir / "weights" / "best.pt"
    return best if validated and best.is_file() else run_dir / "weights" / "last.pt"


def _val_curve(run_dir: Path) -> list[float]:
    """Validation mAP50 per epoch from ultralytics' results.csv (empty without validation)."""
    path = run_dir / "results.csv"
    if not path.is_file():
        return []
    with path.open() as f:
        rows = list(csv.DictReader(f))
    key = next((k for k in (rows[0] if rows else {}) if k.strip() == "metrics/mAP50(B)"), None)
    return [float(r[key]) for r in rows] if key else []


def _train(settings: DetectionSettings, data_yaml: Path, runs: Path, name: str, seed: int, *,
           validated: bool, weights: str | None = None, polar: bool = True, on_the_fly: OnTheFly | None = None,
           threads: int | None = None) -> Path:
    """Train one model; returns its run folder. ``on_the_fly``: translate the RGB frames it names as they load;
    ``threads``: torch CPU threads (None: :func:`polaraug.engine.device.cpu_threads`)."""
    from ultralytics import YOLO
    from ultralytics.models.yolo.detect import DetectionTrainer

    from polaraug.augment.yolo import polar_trainer
    from polaraug.detect.on_the_fly import on_the_fly_trainer
    from polaraug.engine.device import with_cpu_threads

    model = YOLO(weights or settings.weights or settings.model)
    trainer = (on_the_fly_trainer(on_the_fly, threads=threads) if on_the_fly is not None
               else polar_trainer(settings.encoding, threads=threads) if polar
               else with_cpu_threads(DetectionTrainer, threads))
    extra = {"nbs": settings.nbs} if settings.nbs is not None else {}
    model.train(data=str(data_yaml), trainer=trainer, epochs=settings.epochs, patience=settings.patience, **extra,
                imgsz=settings.imgsz, batch=settings.batch, device=settings.device or "cpu", workers=0, seed=seed,
                deterministic=True, amp=False, plots=False, val=validated, project=str(runs.resolve()),
                name=name, exist_ok=True, verbose=False)
    if polar or on_the_fly is not None:  # what polarize_pipeline changed in ultralytics' pipeline, for the report
        write_text(runs.parent / "augmentation.json", json.dumps(trainer.polar_report, indent=1) + "\n")
    return Path(model.trainer.save_dir)


def _on_the_fly(arm: Arm, plan: TrainingPlan, settings: DetectionSettings) -> OnTheFly | None:
    """What an on-the-fly arm's trainings translate (None for any other arm): its RGB pool's frames, with the
    plan's translator, on the detector's GPU when it trains on one GPU, else on the CPU."""
    if not arm.on_the_fly:
        return None
    from polaraug.detect.on_the_fly import OnTheFly

    device = settings.device or "cpu"
    return OnTheFly(roots=(str(plan.pools[arm.source] / "images"),), checkpoint=plan.translator,
                    encoding=settings.encoding, device=f"cuda:{device}" if device.isdigit() else "cpu")


def _val(weights: Path, data_yaml: Path, settings: DetectionSettings):
    """One validation pass of ``weights`` on ``data_yaml``'s val images that keeps every image's records."""
    from ultralytics import YOLO

    runs = weights.parent.parent.parent  # OUT/runs/NAME/weights/x.pt: keep val folders inside OUT/runs
    return YOLO(str(weights)).val(data=str(data_yaml), split="val", imgsz=settings.imgsz, batch=settings.batch,
                                  device=settings.device or "cpu", workers=0, plots=False, verbose=False,
                                  project=str(runs.resolve()), name="val", exist_ok=True,
                                  validator=recording_validator())


def _score(run_dir: Path, test: ScoringSet, settings: DetectionSettings, validated: bool,
           records: Path) -> Score:
    """Score a trained model on ``test`` in one validation pass; its per-image records go to ``records``."""
    weights = _weights_of(run_dir, validated)
    metrics = _val(weights, test.all, settings)
    box, stats = metrics.box, image_stats(metrics)
    stats.save(records)
    per_class = {CLASSES[int(c)]: float(box.ap50[i]) for i, c in enumerate(box.ap_class_index)}
    by_weather = {w: map_scores(stats.subset(stems))["map50"] for w, stems in test.weathers.items()}
    by_condition = {c: map_scores(stats.subset(stems))["map50"] for c, stems in test.conditions.items()}
    # without validation ultralytics still writes the column (zeros, then a final value on training images)
    curve = _val_curve(run_dir) if validated else []
    return Score(float(box.map50), float(box.map), per_class, by_weather, curve, by_condition)


def _augmentation(out: Path) -> list[str]:
    path = out / "augmentation.json"
    return json.loads(path.read_text()) if path.is_file() else []


# Inputs of single arms: a rerun may add them (new arms), or leave out ones run before, without touching the
# other arms' scores. Everything else (training settings, real sets, images per epoch) is common to all arms.
_ARM_INPUT = ("synthetic:", "oracle", "rgb_train", "rgb_test", "on_the_fly:", "translator")
_UNIONS = ("seeds", "controls")  # lists a rerun may extend


def _merged_settings(old: dict, new: dict, out: Path) -> dict:
    """The record of ``out`` after a run with ``new``: ``old`` extended by new arms and seeds.

    Raises:
        InputError: a common setting or input differs, or an arm's input changed since its scores were made.
    """
    legacy = "images_per_epoch" not in old  # made before arms could be added: only an identical rerun
    changed = []
    for k in set(old) | set(new):
        if k == "images_per_epoch" and (k not in new or legacy):
            continue  # not known yet (checked again once the arms are planned), or a legacy record
        if k not in new and k.startswith(_ARM_INPUT):
            continue  # an arm not run this time keeps its record (and its scores)
        if k not in old and k.startswith(_ARM_INPUT) and not legacy:
            continue  # a new arm
        if k in _UNIONS and k in old and k in new and not legacy:
            continue
        if old.get(k) != new.get(k):
            changed.append(k)
    if changed:
        raise InputError(f"{out}: made with other settings ({', '.join(sorted(changed))} differ); new translated "
                         "sets, an oracle and more seeds can be added, anything else needs a new --out")
    merged = {**old, **new}
    for k in _UNIONS:
        if isinstance(old.get(k), list) and isinstance(new.get(k), list):
            merged[k] = sorted(set(old[k]) | set(new[k]), key=(old[k] + new[k]).index)
    return merged


def _check_settings(out: Path, settings: dict, write: bool = True) -> None:
    """Refuse ``out`` when it was made with other settings (see :func:`_merged_settings`); record them
    (``write``), extended by this run's arms and seeds."""
    path = out / "settings.json"
    merged = _merged_settings(json.loads(path.read_text()), settings, out) if path.is_file() else settings
    if write:
        write_text(path, json.dumps(merged, indent=2) + "\n")


def _cached(path: Path, run) -> Score:
    """Score from ``path`` if a previous run finished this (arm, seed), else ``run()`` and keep it."""
    if path.is_file():
        return Score(**json.loads(path.read_text()))
    start = time.perf_counter()
    score = run()
    score.seconds = round(time.perf_counter() - start, 1)
    write_text(path, json.dumps(asdict(score), indent=1) + "\n")
    return score


def _run_arm(arm: Arm, plan: TrainingPlan, seed: int, settings: DetectionSettings, runs: Path,
             records: Path) -> Score:
    """Train ``arm`` with ``seed`` as the plan lists it and score it on its test set (per-image records to
    ``records``)."""
    validated = plan.validated and arm.kind != RGB  # no RGB validation split: the RGB arm keeps its last epoch
    tag = f"{arm.slug}_s{seed}"
    if arm.source is not None and settings.protocol == "pretrain-finetune":
        pre = _train(settings, plan.pretrain_yaml(arm, seed), runs, f"{tag}_pretrain", seed, validated=validated,
                     on_the_fly=_on_the_fly(arm, plan, settings))
        run_dir = _train(settings, plan.finetune_yaml(arm, seed), runs, tag, seed, validated=validated,
                         weights=str(_weights_of(pre, validated)))
    else:
        run_dir = _train(settings, plan.train_yaml(arm, seed), runs, tag, seed, validated=validated,
                         polar=arm.kind != "rgb", on_the_fly=_on_the_fly(arm, plan, settings))
    return _score(run_dir, plan.scoring[arm.test], settings, validated, records)


def eval_detection(inputs: ExperimentInputs, out: Path, *, settings: DetectionSettings,
                   progress: bool = True, n_boot: int = 1000,
                   on_training: Callable[[str, int, bool], None] | None = None) -> dict:
    """Run every arm over all seeds; write results.json, report.md and the charts into ``out``.

    Args:
        inputs: the sets (real train/test, optional validation, synthetic sets by name, oracle, controls,
            RGB reference).
        out: output folder (datasets/, runs/, scores/, settings.json, results.json, report.md, *.png).
        settings: identical for every arm.
        progress: show a progress bar over (arm, seed) trainings.
        n_boot: resamples of the paired bootstrap over test images (0: none).
        on_training: called with (arm name, seed, trained) after each (arm, seed), ``trained`` False when its
            score was kept from an earlier run.

    Returns:
        The results (settings, inputs, per-arm scores and listings, paired differences to ``real`` with
        intervals, gap closed, control comparisons), as in results.json.

    Raises:
        InputError: bad input sets, oracle twins missing, a missing weights file, or ``out`` made with
            other settings or inputs.
        ConfigError: inconsistent inputs (see ExperimentInputs).
    """
    out = Path(out)
    inputs.check()
    names = [a.name for a in arm_list(inputs, settings.ratios)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ConfigError(f"arms named twice: {repeated} (a ratio or control given twice, or a synthetic set named "
                          "like another arm)")
    offline_ultralytics(out / ".ultralytics")
    # Inputs by path and content fingerprint: a re-translated synthetic set at the same path is a change.
    record = {**settings.to_dict(), **{k: [str(Path(v).resolve()), fingerprint(v)] for k, v in inputs.paths().items()},
              "controls": list(inputs.controls)}
    _check_settings(out, {k: v for k, v in record.items() if k != "images_per_epoch"}, write=False)
    plan = plan_arms(inputs, out / "datasets", settings)  # bad sets fail here, before settings are recorded
    # every arm's images per epoch (equal-steps): an added arm must not change the others' budget
    _check_settings(out, {**record, "images_per_epoch": plan.size})
    runs, cache = out / "runs", out / "scores"
    scores: dict[str, list[Score]] = {a.name: [] for a in plan.arms}
    jobs = [(arm, seed) for seed in settings.seeds for arm in plan.arms]
    for arm, seed in tqdm(jobs, desc="eval-detection", unit="training", disable=not progress):
        records, path = cache / f"{arm.slug}_s{seed}.npz", cache / f"{arm.slug}_s{seed}.json"
        trained = not path.is_file()
        scores[arm.name].append(_cached(path, lambda arm=arm, seed=seed, r=records: _run_arm(arm, plan, seed,
                                                                                           settings, runs, r)))
        if on_training is not None:
            on_training(arm.name, seed, trained)
    stats = _records(cache, plan, settings) if n_boot else None
    results = _results(plan, scores, settings, inputs, stats, n_boot)
    results["augmentation"] = _augmentation(out)
    write_text(out / "results.json", json.dumps(results, indent=2) + "\n")
    write_report(results, out)
    return results


def _records(cache: Path, plan: TrainingPlan, settings: DetectionSettings) -> dict[str, list[ImageStats]] | None:
    """Every (arm, seed)'s per-image records, or None when a score was made without them (older runs)."""
    paths = {a.name: [cache / f"{a.slug}_s{s}.npz" for s in settings.seeds] for a in plan.arms}
    if not all(p.is_file() for ps in paths.values() for p in ps):
        return None
    return {name: [ImageStats.load(p) for p in ps] for name, ps in paths.items()}


def _results(plan: TrainingPlan, scores: dict[str, list[Score]], settings: DetectionSettings,
             inputs: ExperimentInputs, stats: dict[str, list[ImageStats]] | None = None, n_boot: int = 1000) -> dict:
    """Per-arm summaries, paired differences to ``real`` (Student-t over seeds, and with ``stats`` a paired
    bootstrap over test images), the share of the oracle gap, control comparisons."""
    def boot(base: str, other: str, test: str) -> dict:
        return compare_bootstrap(stats[base], stats[other], plan.scoring[test].conditions, n_boot)

    arms: dict[str, dict] = {}
    oracles = {a.ratio: a.name for a in plan.arms if a.kind == "oracle"}  # one per ratio of a sweep
    for arm in plan.arms:
        entry = {"kind": arm.kind, "source": arm.source, "ratio": arm.ratio,
                 "images_per_epoch": plan.images_per_epoch(arm), **summarize(scores[arm.name]),
                 **({"on_the_fly": True} if arm.on_the_fly else {})}
        if arm.name != REAL and arm.test == REAL:
            entry["vs_real"] = compare(scores[REAL], scores[arm.name])
            if stats is not None:
                entry["vs_real"]["bootstrap"] = boot(REAL, arm.name, arm.test)
        arms[arm.name] = entry
    for entry in arms.values():
        oracle = oracles.get(entry["ratio"])
        if oracle and "vs_real" in entry and entry["kind"] != "oracle":
            entry["gap_closed"] = gap_closed(entry["vs_real"]["map50"], arms[oracle]["vs_real"]["map50"])
    # arm − control: > 0 when the set's polarization helps beyond its intensities
    controls = {a.name: {"of": a.control_of, **compare(scores[a.name], scores[a.control_of])}
                for a in plan.arms if a.control_of}
    if stats is not None:
        for a in plan.arms:
            if a.control_of:
                controls[a.name]["bootstrap"] = boot(a.name, a.control_of, a.test)
    return {"settings": settings.to_dict(), "inputs": {k: str(v) for k, v in inputs.paths().items()},
            "arms": arms, "controls": controls,
            "val_curves": {name: [sc.val_curve for sc in runs] for name, runs in scores.items()},
            "seconds": training_seconds(scores)}


def training_seconds(scores: dict[str, list[Score]]) -> dict:
    """Wall-clock time of the trainings that recorded it (training and scoring, not dataset export).

    Returns:
        {"total": seconds summed, "trainings": how many recorded it, "of": trainings in all}.
    """
    known = [s.seconds for runs in scores.values() for s in runs if s.seconds is not None]
    return {"total": round(sum(known), 1), "trainings": len(known), "of": sum(len(r) for r in scores.values())}
