"""Seed selection: train a few candidates briefly on fresh renders, continue the one that validates best.

A paired translator's seed settles early, and for good, some 90-degree choices: on a camera it never saw,
one seed reads a road's polarization as specular and another as diffuse (docs/translator.md). The choice
shows on held-out renders of the *training* domains after a short run, so it can be made there and never on
the test set. Each candidate seed trains ``select_at`` steps on its own renders (seed k: its initialisation,
crops and renders), is scored on renders of the training domains with a seed no candidate trains on
(noise-free AoLP error, its generator's weight average when it keeps one), and the best is continued in
the run folder to the full steps. The cost is ``len(seeds) * select_at + (steps - select_at)`` steps.

Layout of the run folder: ``selection/seed_S/`` (each candidate's run), ``selection/validation/DOMAIN/``
(``test`` paired renders and their noise-free ``truth`` twins), ``selection/selection.json`` (settings,
each candidate's scores, the chosen seed), and the run itself (``checkpoints/``, ``config.json``, ...),
which starts as a copy of the chosen candidate's. A rerun resumes: finished candidates are not trained or
scored again.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from polaraug.errors import ConfigError
from polaraug.io.atomic import copy_tree_atomically, write_text

from .rendered import RenderSpec

if TYPE_CHECKING:
    from polaraug.engine import TrainResult

    from .train import TrainingInputs

VALIDATION_FRAMES = 48


@dataclass(frozen=True)
class Selection:
    """Which seeds compete, for how long, and on what.

    Attributes:
        seeds: the candidates' seeds (at least two, distinct).
        select_at: steps each candidate trains before the choice.
        validation_seed: the validation renders' seed; no candidate may train on it (keep it apart from the
            seeds of your own test renders as well).
        validation_frames: validation frames, split evenly over the training domains.
    """

    seeds: tuple[int, ...]
    select_at: int
    validation_seed: int = 3
    validation_frames: int = VALIDATION_FRAMES

    def __post_init__(self) -> None:
        if len(self.seeds) < 2 or len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"--candidates: give at least two distinct seeds, got {list(self.seeds)}")
        if self.validation_seed in self.seeds:
            raise ConfigError(f"--select-seed {self.validation_seed} is also a candidate's seed: a candidate "
                              "would train on the renders it is judged on")
        if self.select_at < 1 or self.validation_frames < 1:
            raise ConfigError("--select-at and the validation frames must be positive")

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "seeds": list(self.seeds)}


def parse_seeds(text: str) -> tuple[int, ...]:
    """``--candidates``' comma-separated seeds, e.g. "0,1,4" -> (0, 1, 4).

    Raises:
        ConfigError: an entry that is not an integer.
    """
    try:
        return tuple(int(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise ConfigError(f"--candidates: expected comma-separated integer seeds, got {text!r}") from None


def validation_sets(spec: RenderSpec, root: Path, *, seed: int, frames: int) -> list[Path]:
    """Render (once) the validation frames of each training domain: ``root/DOMAIN/test`` as the domain's camera
    captures them (what a candidate is given) and ``root/DOMAIN/truth`` their noise-free, mosaic-free twins.

    Args:
        spec: the candidates' renders (size and domains).
        root: where the sets go.
        seed: the validation renders' seed (no judged run may train on it).
        frames: validation frames, split evenly over the domains.

    Returns:
        One folder per domain, each holding ``test`` and ``truth``.
    """
    from polaraug.synth.domain import get_domain
    from polaraug.synth.generate import SynthConfig, domain_sensor, generate

    n = max(1, frames // len(spec.domains))
    folders = []
    for name in spec.domains:
        folder = root / name
        dom = get_domain(name)
        base = SynthConfig(n=n, width=spec.width, height=spec.height, seed=seed, mode="paired",
                           domain=name, val_fraction=0.0, masks=True)
        clean = dataclasses.replace(base, sensor=domain_sensor(dom, base.camera, dofp=False, noise=False))
        for sub, cfg in (("test", base), ("truth", clean)):
            if not (folder / sub / ".synth" / "summary.json").is_file():  # written last by synth
                shutil.rmtree(folder / sub, ignore_errors=True)
                generate(cfg, folder / sub, workers=1, progress=False)
        folders.append(folder)
    return folders


def validation_score(checkpoint: Path, folders: list[Path]) -> dict:
    """A checkpoint's noise-free scores on the validation sets, averaged over domains.

    Returns:
        {"aolp_error_deg", "dolp_mae": means over domains, "per_domain": {domain: aolp_error_deg}}.
    """
    from .checkpoint import load_translator
    from .evaluate import evaluate

    model, _ = load_translator(checkpoint)
    per = {}
    for folder in folders:
        per[folder.name] = evaluate(model, folder / "test", split="train", clean=folder / "truth" / "polar"
                                    ).to_dict()["noise_free"]
    return {"aolp_error_deg": sum(p["aolp_error_deg"] for p in per.values()) / len(per),
            "dolp_mae": sum(p["dolp_mae"] for p in per.values()) / len(per),
            "per_domain": {k: p["aolp_error_deg"] for k, p in per.items()}}


def _record(path: Path, selection: Selection, spec: RenderSpec) -> dict:
    """The selection record, new or resumed (refusing other settings than the recorded ones)."""
    settings = {**selection.to_dict(), "renders": spec.to_dict()}
    if not path.is_file():
        return {"settings": settings, "candidates": {}}
    record = json.loads(path.read_text())
    if record.get("settings") != settings:
        raise ConfigError(f"{path}: this run selected among other candidates or renders; use a new --out")
    return record


def run_selection(spec: RenderSpec, out: Path, selection: Selection,
                  train_candidate: Callable[[RenderSpec, Path, int], Path], *,
                  log: Callable[[str], None] = print) -> int:
    """Train and score every candidate (skipping finished ones), choose, and seed ``out`` with the winner.

    Args:
        spec: the renders (each candidate takes its own seed for them).
        out: the run folder.
        selection: the candidates and the validation.
        train_candidate: trains one candidate, ``(its spec, its run folder, its seed) -> its checkpoint``.
        log: where progress lines go.

    Returns:
        The chosen seed (``out`` then holds a copy of its run, ready to resume).
    """
    root = out / "selection"
    path = root / "selection.json"
    record = _record(path, selection, spec)
    folders = validation_sets(spec, root / "validation", seed=selection.validation_seed,
                              frames=selection.validation_frames)
    for seed in selection.seeds:
        if str(seed) in record["candidates"]:
            continue
        log(f"candidate seed {seed}: {selection.select_at} steps")
        checkpoint = train_candidate(dataclasses.replace(spec, seed=seed), root / f"seed_{seed}", seed)
        record["candidates"][str(seed)] = validation_score(checkpoint, folders)
        write_text(path, json.dumps(record, indent=1) + "\n")
    chosen = min(selection.seeds, key=lambda s: record["candidates"][str(s)]["aolp_error_deg"])
    log("validation AoLP error: " + ", ".join(f"seed {s} {record['candidates'][str(s)]['aolp_error_deg']:.1f} deg"
                                             for s in selection.seeds) + f"; continuing seed {chosen}")
    if record.get("chosen") is None:  # not copied yet (an interrupted copy is done again, file by file)
        copy_tree_atomically(root / f"seed_{chosen}", out)
        record["chosen"] = chosen
        write_text(path, json.dumps(record, indent=1) + "\n")
    return chosen


def train_with_selection(inputs: TrainingInputs, out: str | Path, selection: Selection, *, max_steps: int | None,
                         seed: int = 0, log: Callable[[str], None] = print, **options) -> TrainResult:
    """``polaraug train --render --candidates ...``: :func:`run_selection`, then the chosen candidate trained on
    in ``out`` to ``max_steps``.

    Args:
        inputs: a :class:`~polaraug.translate.train.TrainingInputs` with ``render`` (selection is judged on
            renders of the training domains).
        out: the run folder.
        selection: the candidates and the validation.
        max_steps: the chosen run's total steps (at least ``selection.select_at``).
        seed: the seed given with the command; the candidates' seeds replace it (ConfigError if it is not 0 and
            not among them, to catch a seed that would silently be ignored).
        log: where progress lines go.
        options: :func:`~polaraug.translate.train.train_from_folders`' other arguments (config, preset,
            overrides, device, checkpoint_every, ...); ``max_minutes`` is refused (the choice needs every
            candidate at the same step).

    Returns:
        The chosen run's :class:`~polaraug.engine.TrainResult`.
    """
    from .train import train_from_folders

    if inputs.render is None:
        raise ConfigError("--candidates chooses among runs on fresh renders, judged on renders of their domains: "
                          "add --render")
    if max_steps is None or max_steps < selection.select_at:
        raise ConfigError(f"--candidates needs --steps of at least --select-at ({selection.select_at})")
    if options.get("max_minutes") is not None:
        raise ConfigError("--candidates trains each candidate to --select-at steps; give --steps, not --minutes")
    if seed not in (0, *selection.seeds):
        raise ConfigError(f"--seed {seed} is not among --candidates {list(selection.seeds)}: the candidates' seeds "
                          "are the run's seeds")
    options.pop("max_minutes", None)
    out = Path(out)

    def candidate(spec: RenderSpec, run: Path, s: int) -> Path:
        train_from_folders(dataclasses.replace(inputs, render=spec), run, seed=s, max_steps=selection.select_at,
                           **options)
        return run / "checkpoints" / "last.pt"

    chosen = run_selection(inputs.render, out, selection, candidate, log=log)
    spec = dataclasses.replace(inputs.render, seed=chosen)
    return train_from_folders(dataclasses.replace(inputs, render=spec), out, seed=chosen, max_steps=max_steps,
                              **options)
