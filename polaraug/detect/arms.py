"""The arms of eval-detection and what each trains on.

``ExperimentInputs`` holds the sets a user gives; ``plan_arms`` exports them once as YOLO datasets and
returns a ``TrainingPlan``: the arms and, per (arm, seed), the listing of training images. Every arm with
extra frames draws them by name with the seed, so the translations of one RGB set, their oracle twins and
their depolarized copies add the same scenes; under ``equal-steps`` every listing is repeated to the size
of the largest one, so every arm takes the same optimizer steps. An on-the-fly arm draws RGB frames, which
its training translates as it loads them (``polaraug.detect.on_the_fly``).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from polaraug.data.polarset import read_polarset
from polaraug.data.sources import source_frames
from polaraug.errors import ConfigError, InputError
from polaraug.translate.builtin import resolve_checkpoint

from .datasets import (
    ScoringSet,
    by_stem,
    export_polar,
    export_rgb,
    extra_count,
    images,
    listing_yaml,
    repeat_to,
    sample_extra,
)

if TYPE_CHECKING:
    from .settings import DetectionSettings

REAL, ORACLE, RGB = "real", "oracle", "rgb"
_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass
class ExperimentInputs:
    """The sets of one experiment (polaraug-layout polarimetric sets unless said otherwise).

    Attributes:
        real_train: real labelled training set.
        real_test: real test set, the same for every polarimetric arm.
        synthetic: {name: translated set}; one ``real+NAME`` arm each.
        oracle: true polarimetric twins of the translated frames (same frame names), e.g. ``synth --mode
            paired``'s polar/ of the RGB set that was translated.
        controls: names (of ``synthetic``, or ``oracle``) whose depolarized copy is a control arm.
        real_val: real validation split: per-epoch validation and best-epoch selection.
        rgb_train, rgb_test: labelled RGB sets (BDD100K or KITTI layout) of the reference arm.
        on_the_fly: {name: labelled RGB set (BDD100K or KITTI layout)}; one ``real+NAME`` arm each, whose
            training translates the RGB frames with ``translator`` as it loads them (no stored copy).
        translator: the checkpoint of the on-the-fly arms (``default``: the built-in translator).
    """

    real_train: Path
    real_test: Path
    synthetic: dict[str, Path] = field(default_factory=dict)
    oracle: Path | None = None
    controls: tuple[str, ...] = ()
    real_val: Path | None = None
    rgb_train: Path | None = None
    rgb_test: Path | None = None
    on_the_fly: dict[str, Path] = field(default_factory=dict)
    translator: str = "default"

    def paths(self) -> dict[str, Path]:
        """Every given set by role (``synthetic:NAME`` for synthetic sets, ``on_the_fly:NAME`` for the RGB
        sets of on-the-fly arms, and their ``translator``'s file)."""
        fixed = {"real_train": self.real_train, "real_test": self.real_test, "oracle": self.oracle,
                 "real_val": self.real_val, "rgb_train": self.rgb_train, "rgb_test": self.rgb_test,
                 "translator": resolve_checkpoint(self.translator) if self.on_the_fly else None}
        return {**{k: Path(v) for k, v in fixed.items() if v is not None},
                **{f"synthetic:{k}": Path(v) for k, v in self.synthetic.items()},
                **{f"on_the_fly:{k}": Path(v) for k, v in self.on_the_fly.items()}}

    def extra_sets(self) -> dict[str, Path]:
        """Every set a ``real+NAME`` arm draws from: the translated sets, then the on-the-fly RGB sets."""
        return {**self.synthetic, **self.on_the_fly}

    def check(self) -> None:
        """Raises ConfigError for inconsistent arguments, InputError when oracle twins are missing or the
        on-the-fly arms' translator cannot be loaded."""
        if (self.rgb_train is None) != (self.rgb_test is None):
            raise ConfigError("the rgb reference arm needs both --rgb-train and --rgb-test")
        both = sorted(set(self.synthetic) & set(self.on_the_fly))
        if both:
            raise ConfigError(f"{both[0]!r} names both a synthetic set and an on-the-fly one")
        if self.on_the_fly:  # a bad translator fails here, not in the first on-the-fly arm's training
            from polaraug.translate.checkpoint import load_translator

            load_translator(self.translator)
        for name in self.extra_sets():
            if not _NAME.fullmatch(name) or name in (REAL, ORACLE, RGB):
                raise ConfigError(f"added set name {name!r}: use letters, digits, '_', '.', '-', and not "
                                  f"{REAL!r}, {ORACLE!r} or {RGB!r}")
        for name in self.controls:
            if name not in self.synthetic and not (name == ORACLE and self.oracle is not None):
                raise ConfigError(f"control {name!r} names no synthetic set (given: "
                                  f"{', '.join(self.synthetic) or 'none'}{', oracle' if self.oracle else ''})")
        if self.oracle is not None:
            twins = _frame_stems(self.oracle)
            for name, path in self.extra_sets().items():
                stems = _rgb_stems(path) if name in self.on_the_fly else _frame_stems(path)
                missing = next((s for s in sorted(stems) if s not in twins), None)
                if missing is not None:
                    raise InputError(f"{self.oracle}: no oracle twin for frame {missing!r} of added set "
                                     f"{name} ({path}); the oracle must render every translated frame")


def _frame_stems(root: Path) -> set[str]:
    ps = read_polarset(root)
    return {f.flat_stem for s in ps.splits for f in ps.frames(s)}


def _rgb_stems(root: Path) -> set[str]:
    return {f.flat_stem for f in source_frames(Path(root))}


@dataclass(frozen=True)
class Arm:
    """One arm: what it adds to the real frames and where it is scored.

    Attributes:
        name: as reported (``real``, ``real+NAME``, ``real+oracle``, ``real+NAME-unpolarized``, ``rgb``;
            ``@RATIO`` appended in a ratio sweep).
        kind: real, synthetic, oracle, unpolarized or rgb.
        source: the set it draws extra frames from (None for real and rgb).
        ratio: extra frames per real frame (None for real and rgb).
        test: the scoring set, real or rgb.
        control_of: for an unpolarized control, the arm it controls.
        on_the_fly: a synthetic arm whose source is RGB, translated as its training loads it.
    """

    name: str
    kind: str
    source: str | None = None
    ratio: float | None = None
    test: str = REAL
    control_of: str | None = None
    on_the_fly: bool = False

    @property
    def slug(self) -> str:
        """The name as a file name."""
        return self.name.replace("+", "_").replace("@", "_r")


@dataclass
class TrainingPlan:
    """Exported sets and the listing every (arm, seed) trains on.

    Attributes:
        arms: in report order, ``real`` first.
        real: exported real training set; its class names serve every listing.
        pools: {source: exported set} of the extra frames.
        names: {source: the frame stems it is sampled from}.
        val: validation images (the real validation split, else the real training images).
        validated: whether a real validation split was given.
        size: images per epoch of every arm (equal-steps), None under equal-epochs.
        scoring: {real|rgb: ScoringSet}.
        rgb: exported RGB training set, if any.
        protocol: mix or pretrain-finetune.
        real_size: real frames each seed trains on, drawn from the real set with the seed (None: all).
        translator: the checkpoint of the on-the-fly arms.
    """

    arms: list[Arm]
    real: Path
    pools: dict[str, Path]
    names: dict[str, list[str]]
    val: list[Path]
    validated: bool
    size: int | None
    scoring: dict[str, ScoringSet]
    rgb: Path | None = None
    protocol: str = "mix"
    real_size: int | None = None
    translator: str = "default"

    def __post_init__(self) -> None:
        # listed once: every (arm, seed) listing reuses them
        self._real = images(self.real) if self.real.is_dir() else []
        self._rgb = images(self.rgb) if self.rgb is not None else []
        self._pools = {k: by_stem(p) for k, p in self.pools.items()}

    @property
    def n_real(self) -> int:
        """Real frames per training."""
        return len(self._real) if self.real_size is None else self.real_size

    def real_frames(self, seed: int) -> list[Path]:
        """The real frames every arm of ``seed`` trains on: all of them, or the seed's own draw of
        ``real_size`` (the first ``real_size`` of one seeded shuffle, so a seed's smaller draws are part of
        its larger ones: a learning curve adds frames instead of drawing new ones)."""
        if self.real_size is None:
            return self._real
        order = list(self._real)
        random.Random(f"real-{seed}").shuffle(order)
        return sorted(order[: self.real_size])

    def extra(self, arm: Arm, seed: int) -> list[Path]:
        """The extra frames ``arm`` adds with ``seed`` (empty for real and rgb)."""
        if arm.source is None:
            return []
        pool, names = self._pools[arm.source], self.names[arm.source]
        return sample_extra(pool, names, extra_count(self.n_real, len(names), arm.ratio), seed)

    def listing(self, arm: Arm, seed: int) -> list[Path]:
        """Training images of ``arm`` with ``seed`` under mix (real + extra, or the RGB set), repeated to the
        common size under equal-steps."""
        base = self._rgb if arm.kind == RGB else self.real_frames(seed)
        return repeat_to(base + self.extra(arm, seed), self.size, seed)

    def images_per_epoch(self, arm: Arm) -> int:
        """Training images per epoch (pretrain-finetune: both phases together)."""
        if self.protocol == "pretrain-finetune" and arm.source is not None:
            return len(self.pretrain_listing(arm, 0)) + self.n_real
        return len(self.listing(arm, 0))

    def pretrain_listing(self, arm: Arm, seed: int) -> list[Path]:
        """pretrain-finetune's first phase: the extra frames, repeated so that both phases together take the
        common size per epoch under equal-steps."""
        size = None if self.size is None else self.size - self.n_real
        return repeat_to(self.extra(arm, seed), size, seed)

    def _yaml(self, root: Path, name: str, train: list[Path], seed: int) -> Path:
        # without a validation split, a training's closing validation runs on the seed's own real frames
        val = self.val if self.validated or self.real_size is None else self.real_frames(seed)
        return listing_yaml(root, name, train, val if root == self.real else train)

    def train_yaml(self, arm: Arm, seed: int) -> Path:
        root = self.rgb if arm.kind == RGB else self.real
        return self._yaml(root, f"{arm.slug}_s{seed}", self.listing(arm, seed), seed)

    def pretrain_yaml(self, arm: Arm, seed: int) -> Path:
        return self._yaml(self.real, f"{arm.slug}_s{seed}_pretrain", self.pretrain_listing(arm, seed), seed)

    def finetune_yaml(self, arm: Arm, seed: int) -> Path:
        return self._yaml(self.real, f"{arm.slug}_s{seed}_finetune", self.real_frames(seed), seed)


def arm_list(inputs: ExperimentInputs, ratios: tuple[float, ...]) -> list[Arm]:
    """Every arm of the inputs, in report order."""
    def at(name: str, r: float) -> str:
        return f"{name}@{r:g}" if len(ratios) > 1 else name

    arms = [Arm(REAL, REAL)]
    for r in ratios:
        arms += [Arm(at(f"real+{n}", r), "synthetic", n, r) for n in inputs.synthetic]
        arms += [Arm(at(f"real+{n}", r), "synthetic", n, r, on_the_fly=True) for n in inputs.on_the_fly]
        if inputs.oracle is not None:
            arms.append(Arm(at("real+oracle", r), ORACLE, ORACLE, r))
        arms += [Arm(at(f"real+{n}-unpolarized", r), "unpolarized", f"{n}-unpolarized", r,
                     control_of=at(f"real+{n}", r)) for n in inputs.controls]
    if inputs.rgb_train is not None:
        arms.append(Arm(RGB, RGB, test=RGB))
    return arms


def plan_arms(inputs: ExperimentInputs, data: Path, settings: DetectionSettings) -> TrainingPlan:
    """Export every set once into ``data`` (skipped when done) and plan the arms' listings.

    Raises:
        InputError: a set that cannot be read or has no labelled boxes.
    """
    enc, cls = settings.encoding, settings.classes
    real = export_polar(inputs.real_train, data / "real_train", enc, classes=cls)
    test = export_polar(inputs.real_test, data / "real_test", enc, classes=cls)
    val = export_polar(inputs.real_val, data / "real_val", enc, classes=cls) if inputs.real_val else None
    pools = {n: export_polar(p, data / f"synthetic_{n}", enc, classes=cls) for n, p in inputs.synthetic.items()}
    pools |= {n: export_rgb(p, data / f"on_the_fly_{n}", classes=cls) for n, p in inputs.on_the_fly.items()}
    if inputs.oracle is not None:
        pools[ORACLE] = export_polar(inputs.oracle, data / "oracle", enc, classes=cls)
    for n in inputs.controls:
        src = inputs.oracle if n == ORACLE else inputs.synthetic[n]
        pools[f"{n}-unpolarized"] = export_polar(src, data / f"unpolarized_{n}", enc, classes=cls,
                                                 depolarized=True)
    names = {k: sorted(by_stem(p)) for k, p in pools.items()}
    if inputs.extra_sets() and ORACLE in names:  # the oracle adds the twins of the first set's frames
        names[ORACLE] = names[next(iter(inputs.extra_sets()))]
    for n in inputs.controls:  # a control adds the same frames as the arm it controls
        names[f"{n}-unpolarized"] = names[n]
    scoring = {REAL: ScoringSet.of(test)}
    rgb = None
    if inputs.rgb_train is not None:
        rgb = export_rgb(inputs.rgb_train, data / "rgb_train", classes=cls)
        scoring[RGB] = ScoringSet.of(export_rgb(inputs.rgb_test, data / "rgb_test", classes=cls))
    arms = arm_list(inputs, settings.ratios)
    n_real = len(images(real))
    if settings.real_size is not None:
        if settings.real_size > n_real:
            raise InputError(f"{inputs.real_train}: {n_real} frames, fewer than the {settings.real_size} real "
                             "frames asked per training")
        n_real = settings.real_size
    size = None
    if settings.budget == "equal-steps":
        extra = [extra_count(n_real, len(names[a.source]), a.ratio) for a in arms if a.source is not None]
        n_rgb = [len(images(rgb))] if rgb is not None else []
        size = max([n_real + max(extra, default=0), *n_rgb])
    return TrainingPlan(arms, real, pools, names, images(val) if val else images(real), val is not None, size,
                        scoring, rgb, settings.protocol, settings.real_size, inputs.translator)
