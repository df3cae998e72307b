"""The usefulness benchmark: does generated polarimetric data help a detector where real data is scarce and
narrow, and does its *polarization* help, or only its new scenes?

Built from polaraug's renderer, in the situation of a user who owns a small polarimetric capture campaign
and plenty of labelled RGB frames:

- "real": the *shifted* domain (a non-ideal 12-bit DoFP camera; synth/domain.py), **narrow**: clear
  daytime only by default; each seed draws its own subset of every size of the learning curve from one
  pool (a seed's smaller subsets are part of its larger ones);
- test: the shifted domain, **wide**: every weather and 20 % night, scored overall and per condition
  (clear, overcast, foggy, rainy, night);
- added data: RGB scenes of every condition, translated by a translator (the built-in one, or any
  checkpoint), their true polarimetric twins (the oracle: what a perfect
  translator adds) and both sets with their polarization removed (the controls: same s0, DoLP 0);
- every arm trains the same optimizer steps with the same seeds (``eval-detection``'s protocol), under
  ``mix`` at every size and ``pretrain-finetune`` at the smallest.

Each (protocol, size) is one ``eval-detection`` experiment under ``OUT/experiments/``; finished trainings
are kept, so a rerun resumes. ``scores`` (e.g. ``docs/figures/usefulness/``) keeps a copy of every finished
training's scores and records: a run on a fresh machine starts from them when its inputs have the same
content (a digest of every file), and trains only what is missing.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from polaraug.data.encodings import check_encoding
from polaraug.errors import ConfigError, InputError
from polaraug.io.atomic import write_text
from polaraug.synth.domain import without_randomisation_off
from polaraug.translate.builtin import resolve_checkpoint, translator_name

from .arms import ExperimentInputs
from .settings import DetectionSettings


@dataclass(frozen=True, kw_only=True)
class UsefulnessConfig:
    """Every setting of the benchmark (one source of truth; recorded in ``usefulness.json``).

    Attributes:
        frame: rendered frame size (width, height).
        real_pool: real frames rendered (the largest size of the curve at most).
        real_weather, real_night: the narrow real condition (a weather, and the share of night frames).
        test: test frames (every weather, ``test_night`` of them at night).
        pool: RGB scenes with their twins that the added frames are drawn from.
        extra: added frames per training (every size adds the same number).
        sizes: real frames per training, the learning curve.
        seeds: seeds of every experiment; ``control_seeds`` at the smallest size (where the controls run).
        protocols: ``mix`` at every size; ``pretrain-finetune`` at the smallest only.
        epochs, imgsz, batch, nbs, model, classes, encoding: the detector's training (eval-detection's).
        render_seeds: seeds of the rendered sets.
        n_boot: resamples of the paired bootstrap over test images.
    """

    frame: tuple[int, int] = (192, 144)
    real_pool: int = 200
    real_weather: str = "clear"
    real_night: float = 0.0
    test: int = 300
    test_night: float = 0.2
    pool: int = 400
    extra: int = 200
    sizes: tuple[int, ...] = (25, 50, 100)
    seeds: int = 3
    control_seeds: int = 5
    protocols: tuple[str, ...] = ("mix", "pretrain-finetune")
    epochs: int = 30
    imgsz: int = 128
    batch: int = 8
    nbs: int | None = 8  # one optimizer step per batch: ultralytics' 64 leaves ~100 steps in this budget
    model: str = "yolov8n.yaml"
    classes: tuple[str, ...] = ("car", "truck", "bus")
    encoding: str = "intensities"
    render_seeds: dict[str, int] = field(default_factory=lambda: {"real": 31, "test": 33, "pool": 34})
    n_boot: int = 1000

    def __post_init__(self) -> None:
        if not self.sizes or sorted(self.sizes) != list(self.sizes) or self.sizes[0] < 1:
            raise ConfigError(f"sizes must be increasing positive frame counts, got {list(self.sizes)}")
        if self.sizes[-1] > self.real_pool:
            raise ConfigError(f"the largest size ({self.sizes[-1]}) exceeds the real pool ({self.real_pool})")
        if not 0 < self.extra <= self.pool:
            raise ConfigError(f"extra must be in 1..pool ({self.pool}), got {self.extra}")
        if self.seeds < 1 or self.control_seeds < 1:
            raise ConfigError("seeds and control_seeds must be at least 1")
        check_encoding(self.encoding)

    def to_dict(self) -> dict:
        return {**asdict(self), "frame": list(self.frame), "sizes": list(self.sizes),
                "protocols": list(self.protocols), "classes": list(self.classes)}


QUICK = UsefulnessConfig(frame=(96, 64), real_pool=6, test=12, pool=8, extra=4, sizes=(3, 6), seeds=1,
                         control_seeds=2, epochs=1, imgsz=64, batch=4, nbs=4, n_boot=50)


@dataclass(frozen=True)
class Experiment:
    """One eval-detection run of the benchmark: a protocol at a real-set size, with its arms and seeds."""

    protocol: str
    size: int
    seeds: int
    controls: bool

    @property
    def name(self) -> str:
        return f"{self.protocol}_n{self.size}"


def experiments(cfg: UsefulnessConfig) -> list[Experiment]:
    """The benchmark's runs, most informative first (an interrupted run has the headline figures first):
    the smallest size with the controls, then the rest of the curve, then pretrain-finetune."""
    runs = [Experiment("mix", cfg.sizes[0], max(cfg.seeds, cfg.control_seeds), True)]
    runs += [Experiment("mix", n, cfg.seeds, False) for n in cfg.sizes[1:]]
    runs += [Experiment(p, cfg.sizes[0], cfg.seeds, False) for p in cfg.protocols if p != "mix"]
    return runs


@dataclass(frozen=True)
class BenchmarkData:
    """The benchmark's sets (polaraug layout unless said otherwise)."""

    real: Path
    test: Path
    pool: Path  # paired: pool/rgb (RGB scenes) and pool/polar (their true twins: the oracle)
    translated: Path
    checkpoint: Path

    def digests(self) -> dict[str, str]:
        """Content digest of every input (see :func:`content_digest`)."""
        return {"real": content_digest(self.real), "test": content_digest(self.test),
                "oracle": content_digest(self.pool / "polar"), "translated": content_digest(self.translated)}


def content_digest(root: Path) -> str:
    """SHA-256 over every file's relative path and bytes (less the manifest's times, paths and versions and a
    YOLO data.yaml's own folder), in path order: equal for sets with equal content wherever and whenever they
    were made."""
    h = hashlib.sha256()
    for path in sorted(p for p in Path(root).rglob("*") if p.is_file() and not p.name.startswith(".")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue  # work folders (.synth/ and the like)
        h.update(rel.encode() + b"\0")
        data = path.read_bytes()
        if path.name == "manifest.json":
            data = _stable_manifest(data)
        elif path.name == "data.yaml":  # a YOLO export names its own absolute folder
            data = b"\n".join(line for line in data.splitlines() if not line.startswith(b"path:"))
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


# manifest fields that change with the time, place or software of a write, not with the set's content
VOLATILE = ("created", "created_at", "time", "versions", "source", "checkpoint", "updated", "polaraug", "python",
            "numpy", "torch")


def _stable_manifest(data: bytes) -> bytes:
    """A manifest without the fields that change with every write (times, paths, versions)."""
    try:
        doc = json.loads(data)
    except ValueError:
        return data

    def strip(x):
        if isinstance(x, dict):
            return {k: _domain_at_rest(v) if k == "domain_settings" else strip(v)
                    for k, v in x.items() if k not in VOLATILE}
        if isinstance(x, list):
            return [strip(v) for v in x]
        return x

    return json.dumps(strip(doc), sort_keys=True).encode()


def _domain_at_rest(settings):
    """A manifest's domain settings as :meth:`Domain.to_dict` writes them today: sets made while it listed
    the per-frame randomisation fields at their off values describe the same renders and digest alike."""
    return without_randomisation_off(settings) if isinstance(settings, dict) else settings


def prepare_data(cfg: UsefulnessConfig, root: Path, checkpoint: Path | None = None, *,
                 log: Callable[[str], None] = print, progress: bool = True) -> BenchmarkData:
    """Render the sets and translate the pool's RGB frames for the real camera; every step is skipped when its
    output is complete.

    Args:
        cfg: the benchmark settings.
        root: where the sets go (``root/data``).
        checkpoint: the translator (default: the built-in one).
        log: where progress lines go.
        progress: progress bars.
    """
    from polaraug.synth.generate import SynthConfig, generate

    data = root / "data"
    w, h = cfg.frame
    s = cfg.render_seeds
    renders = [
        ("real", f"{cfg.real_pool} narrow 'real' frames (shifted camera, {cfg.real_weather}, night "
                 f"{cfg.real_night:g})",
         SynthConfig(n=cfg.real_pool, width=w, height=h, seed=s["real"], mode="polar", domain="shifted",
                     weather=cfg.real_weather, night_fraction=cfg.real_night, val_fraction=0.0)),
        ("test", f"{cfg.test} wide test frames (shifted camera, every weather, night {cfg.test_night:g})",
         SynthConfig(n=cfg.test, width=w, height=h, seed=s["test"], mode="polar", domain="shifted",
                     night_fraction=cfg.test_night, val_fraction=0.0)),
        ("pool", f"{cfg.pool} RGB scenes of every condition with their polarimetric twins (the oracle)",
         SynthConfig(n=cfg.pool, width=w, height=h, seed=s["pool"], mode="paired", domain="shifted",
                     night_fraction=cfg.test_night, val_fraction=0.0)),
    ]
    # A finished set is left alone: a resumed synth or translate rewrites its labels and manifest, which
    # eval-detection would take for changed inputs.
    for name, what, synth in renders:
        if not _rendered(data / name, synth.n):
            log(f"rendering {what}")
            generate(synth, data / name, progress=progress)
    checkpoint = resolve_checkpoint(checkpoint)
    translated = data / "translated"
    _check_translator(translated, Path(checkpoint))
    if not (translated / "manifest.json").is_file():  # written last, when every frame is
        from polaraug.translate.dataset import run_translation

        log(f"translating the pool's {cfg.pool} RGB frames with {translator_name(checkpoint)} for the shifted "
            "camera")
        run_translation(data / "pool" / "rgb", translated, checkpoint=checkpoint, calibration="shifted_dofp",
                        progress=progress)
    return BenchmarkData(data / "real", data / "test", data / "pool", translated, Path(checkpoint))


def _check_translator(translated: Path, checkpoint: Path) -> None:
    """Refuse a finished translation made by another checkpoint than ``checkpoint`` (its scores would be
    reported as this translator's)."""
    from polaraug.translate.dataset import file_sha256

    manifest = translated / "manifest.json"
    if manifest.is_file():
        made_by = json.loads(manifest.read_text()).get("provenance", {}).get("checkpoint_sha256")
        if made_by is not None and made_by != file_sha256(checkpoint):
            raise InputError(f"{translated}: translated with another checkpoint than {checkpoint}; "
                             "choose a new --out to evaluate this translator")


def _rendered(out: Path, n: int) -> bool:
    """Whether ``polaraug synth`` finished ``n`` frames in ``out`` (its summary is written last)."""
    summary = out / ".synth" / "summary.json"
    return summary.is_file() and sum(json.loads(summary.read_text())["frames"].values()) == n


def settings_of(cfg: UsefulnessConfig, exp: Experiment, device: str | None = None) -> DetectionSettings:
    """eval-detection's settings of one experiment: ``cfg.extra`` added frames at every size."""
    return DetectionSettings(encoding=cfg.encoding, protocol=exp.protocol, ratios=(cfg.extra / exp.size,),
                             seeds=tuple(range(exp.seeds)), model=cfg.model, epochs=cfg.epochs, imgsz=cfg.imgsz,
                             batch=cfg.batch, device=device, classes=cfg.classes, real_size=exp.size,
                             nbs=cfg.nbs)


def inputs_of(data: BenchmarkData, exp: Experiment) -> ExperimentInputs:
    """The arms of one experiment: translated and oracle, with both controls where ``exp.controls``."""
    return ExperimentInputs(data.real, data.test, synthetic={"translated": data.translated},
                            oracle=data.pool / "polar", controls=("translated", "oracle") if exp.controls else ())


def _arms(exp: Experiment) -> int:
    return 5 if exp.controls else 3


def trainings(exp: Experiment, protocol_reuse: bool = True) -> int:
    """Trainings of an experiment (pretrain-finetune: two per added-data arm; its real arm is the mix run's)."""
    added = _arms(exp) - 1
    if exp.protocol == "pretrain-finetune":
        return exp.seeds * (2 * added + (0 if protocol_reuse else 1))
    return exp.seeds * _arms(exp)


def _done(out: Path) -> set[str]:
    scores = out / "scores"
    return {p.stem for p in scores.glob("*.json")} if scores.is_dir() else set()


def arm_inputs(stem: str) -> tuple[str, ...]:
    """The inputs (keys of :meth:`BenchmarkData.digests`) whose content a saved score depends on.

    Args:
        stem: a score file's stem, e.g. ``real_s0``, ``real_oracle_s3``, ``real_translated-unpolarized_s1``.

    Returns:
        ``real`` and ``test`` always; ``oracle`` or ``translated`` when the arm adds that set (an arm of
        another name: every input).
    """
    added = re.sub(r"_s\d+$", "", stem).removeprefix("real").lstrip("_").removesuffix("-unpolarized")
    if not added:
        return ("real", "test")
    return ("real", "test", added) if added in ("oracle", "translated") else ("real", "test", "oracle", "translated")


def changed_inputs(made_from: dict[str, str], digests: dict[str, str]) -> set[str]:
    """Inputs whose content digest differs between a saved record and this run (either side missing counts)."""
    return {k for k in set(digests) | set(made_from) if made_from.get(k) != digests.get(k)}


def _stale(stem: str, changed: set[str]) -> bool:
    """Whether a saved score (file stem) was trained or tested on one of the ``changed`` inputs."""
    return bool(changed & set(arm_inputs(stem)))


def seed_from_saved(saved: Path, out: Path, digests: dict[str, str], settings: dict,
                    log: Callable[[str], None]) -> int:
    """Copy the saved scores of an experiment into its folder, each when the inputs its arm trains and tests on
    have the same content (a new translator retrains only the translation arms) and the detector settings are
    the same (device included: CPU and GPU trainings differ). Returns the number of scores copied (what is not
    reused is said in ``log``)."""
    record = saved / "usefulness_inputs.json"
    if not record.is_file() or not (saved / "settings.json").is_file():
        return 0
    recorded = json.loads((saved / "settings.json").read_text())
    changed = sorted(k for k in settings if k != "seeds" and recorded.get(k) != settings[k])
    if changed:
        log(f"  saved scores in {saved} were made with other settings ({', '.join(changed)} differ): not reused")
        return 0
    made_from = json.loads(record.read_text())
    differ = changed_inputs(made_from, digests)
    if differ:
        log(f"  saved scores in {saved} were made from other inputs ({', '.join(sorted(differ))} differ): "
            "the arms that use them train again")
    (out / "scores").mkdir(parents=True, exist_ok=True)
    copied = 0
    for p in sorted(saved.glob("*_s*.json")):
        if _stale(p.stem, differ) or (out / "scores" / p.name).is_file():
            continue
        npz = p.with_suffix(".npz")
        if npz.is_file():  # the per-image scores first: the json marks a score finished
            shutil.copyfile(npz, out / "scores" / npz.name)
        shutil.copyfile(p, out / "scores" / p.name)
        copied += 1
    return copied


def _localise_settings(saved: Path, out: Path, paths: dict[str, Path]) -> None:
    """eval-detection's settings.json of ``saved`` with the input paths and fingerprints of this machine (the
    content digests already matched), so the experiment resumes instead of refusing."""
    from polaraug.io.fingerprint import fingerprint

    if (out / "settings.json").is_file():
        return
    record = json.loads((saved / "settings.json").read_text())
    for key, path in paths.items():
        if key in record:
            record[key] = [str(Path(path).resolve()), fingerprint(path)]
    write_text(out / "settings.json", json.dumps(record, indent=2) + "\n")


def _save_scores(out: Path, saved: Path, digests: dict[str, str]) -> None:
    """Copy an experiment's finished scores (json + npz) and settings to ``saved`` (atomic, skip existing).
    Saved scores whose arm's inputs have changed are deleted first: replaced, never relabelled as ours."""
    from polaraug.io.atomic import atomic_path

    saved.mkdir(parents=True, exist_ok=True)
    record = saved / "usefulness_inputs.json"
    if record.is_file():
        differ = changed_inputs(json.loads(record.read_text()), digests)
        for old in saved.glob("*_s*.*"):
            if _stale(old.stem, differ):
                old.unlink()
    for p in sorted((out / "scores").glob("*")) + [out / "settings.json"]:
        dst = saved / p.name
        if p.is_file() and (p.name == "settings.json" or not dst.is_file()):
            with atomic_path(dst) as tmp:
                shutil.copyfile(p, tmp)
    write_text(saved / "usefulness_inputs.json", json.dumps(digests, indent=2) + "\n")


def _reuse_real_arm(mix: Path, out: Path, seeds: int) -> None:
    """pretrain-finetune trains its real arm exactly as mix does (no added frames, same listing, same seeds):
    copy the mix run's real scores instead of training them again."""
    (out / "scores").mkdir(parents=True, exist_ok=True)
    for s in range(seeds):
        for ext in (".npz", ".json"):  # the json last: it marks the score finished
            src, dst = mix / "scores" / f"real_s{s}{ext}", out / "scores" / f"real_s{s}{ext}"
            if src.is_file() and not dst.is_file():
                shutil.copyfile(src, dst)


def run_usefulness(out: Path, *, cfg: UsefulnessConfig = UsefulnessConfig(), checkpoint: Path | None = None,
                   saved: Path | None = None, figures: Path | None = None, device: str | None = None,
                   log: Callable[[str], None] = print, progress: bool = True) -> dict:
    """Run the benchmark into ``out``: data, every experiment, ``usefulness.json`` and its charts.

    Args:
        out: working folder (data/, experiments/, usefulness.json, charts).
        cfg: the settings (``QUICK`` for a smoke test).
        checkpoint: the translator to evaluate (default: the built-in one).
        saved: a folder of saved scores (one subfolder per experiment) to start from and to keep every finished
            training's scores in, e.g. ``docs/figures/usefulness``.
        figures: also copy ``usefulness.json`` and the charts here.
        device: eval-detection's device.
        log: where progress lines go.
        progress: progress bars.

    Returns:
        The results, as written to ``usefulness.json``.
    """
    from tqdm import tqdm

    from .evaluation import eval_detection, offline_ultralytics
    from .usefulness_report import assemble

    out = Path(out)
    offline_ultralytics(out / ".ultralytics")
    data = prepare_data(cfg, out, checkpoint, log=log, progress=progress)
    digests = data.digests()
    runs = experiments(cfg)
    root = out / "experiments"
    if saved is not None:
        _start_from_saved(cfg, runs, data, root, saved, digests, device, log)
    total = sum(trainings(e) for e in runs)
    done = sum(_finished(root / e.name, e) for e in runs)
    log(f"{len(runs)} experiments, {total} trainings ({done} already done): "
        + ", ".join(f"{e.name} ({_arms(e)} arms x {e.seeds} seeds)" for e in runs))
    results: dict[str, dict] = {}
    with tqdm(total=total, initial=done, desc="usefulness", unit="training", disable=not progress) as bar:
        for exp in runs:
            exp_out = root / exp.name
            if exp.protocol != "mix":
                _reuse_real_arm(root / f"mix_n{exp.size}", exp_out, exp.seeds)
            bar.set_postfix_str(exp.name)
            after = _after_each_training(bar, exp, exp_out, saved, digests)
            results[exp.name] = eval_detection(inputs_of(data, exp), exp_out, settings=settings_of(cfg, exp, device),
                                               progress=False, n_boot=cfg.n_boot, on_training=after)
            if saved is not None:
                _save_scores(exp_out, saved / exp.name, digests)
            # after every experiment: the results so far (a long run shows its headline before it ends)
            summary = _publish(assemble(cfg, runs, results, digests, data), out, figures)
    return summary


def _start_from_saved(cfg: UsefulnessConfig, runs: list[Experiment], data: BenchmarkData, root: Path, saved: Path,
                      digests: dict[str, str], device: str | None, log: Callable[[str], None]) -> None:
    """Seed every experiment's folder with the saved scores made from the same inputs and settings."""
    for exp in runs:
        if (saved / exp.name).is_dir():
            n = seed_from_saved(saved / exp.name, root / exp.name, digests,
                                settings_of(cfg, exp, device).to_dict(), log)
            if n:
                _localise_settings(saved / exp.name, root / exp.name, inputs_of(data, exp).paths())
                log(f"  {exp.name}: {n} finished trainings taken from {saved / exp.name}")


def _after_each_training(bar, exp: Experiment, exp_out: Path, saved: Path | None, digests: dict[str, str]):
    """eval-detection's ``on_training`` hook: advance the bar (a pretrain-finetune arm is two trainings) and keep
    every finished training's scores as it goes."""
    def after(arm: str, seed: int, trained: bool) -> None:
        if trained:
            bar.update(2 if exp.protocol == "pretrain-finetune" and arm != "real" else 1)
            if saved is not None:
                _save_scores(exp_out, saved / exp.name, digests)

    return after


def _publish(summary: dict, out: Path, figures: Path | None) -> dict:
    """Write ``usefulness.json`` and the charts into ``out`` (and copies into ``figures``)."""
    from .usefulness_report import write_charts, write_markdown

    write_text(out / "usefulness.json", json.dumps(summary, indent=1) + "\n")
    charts = [*write_charts(summary, out), write_markdown(summary, out)]
    if figures is not None:
        figures.mkdir(parents=True, exist_ok=True)
        write_text(figures / "usefulness.json", json.dumps(summary, indent=1) + "\n")
        for c in charts:
            shutil.copyfile(c, figures / c.name)
    return summary


def _finished(exp_out: Path, exp: Experiment) -> int:
    """Trainings of ``exp`` already done (a finished pretrain-finetune arm counts for its two trainings)."""
    done = _done(exp_out)
    if exp.protocol == "pretrain-finetune":
        return 2 * len([d for d in done if not re.fullmatch(r"real_s\d+", d)])  # the real arm is mix's
    return len(done)
