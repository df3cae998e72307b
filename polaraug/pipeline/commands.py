"""Stage types of pipeline files: the ``polaraug`` command each runs, its options, and which of its outputs the
runner places in the stage's folder.

The options are a declarative table, not read from the command line, so that ``polaraug.pipeline`` never
imports ``polaraug.cli``. ``tests/test_pipeline.py`` checks the table against every command's parameters
(names, required or not, flag or value, defaults): a command that gains, loses or changes an option fails
that test until the table here says the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from polaraug.errors import ConfigError

ARGUMENT, VALUE, FLAG, MULTI = "argument", "value", "flag", "multi"


@dataclass(frozen=True)
class Option:
    """One parameter of a command as pipeline files name it.

    ``key`` is the option as typed without dashes (``--real-val`` -> ``real_val``, ``--json`` -> ``json``,
    ``-n`` -> ``n``) or a positional argument's name; ``kind`` is ARGUMENT (positional), VALUE (``--opt
    VALUE``), MULTI (``--opt VALUE`` repeated, one per item of a list) or FLAG (``--flag``, with ``off`` its
    ``--no-flag`` form when the command has one).
    """

    key: str
    kind: str
    flag: str | None = None
    required: bool = False
    default: Any = None
    off: str | None = None


def _key(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def arg(name: str) -> Option:
    """A required positional argument."""
    return Option(name, ARGUMENT, required=True)


def opt(flag: str, default: Any = None) -> Option:
    """An optional ``--opt VALUE``."""
    return Option(_key(flag), VALUE, flag, default=default)


def many(flag: str) -> Option:
    """A repeatable ``--opt VALUE`` (a list in the pipeline file gives the option once per item)."""
    return Option(_key(flag), MULTI, flag)


def req(flag: str) -> Option:
    """A required ``--opt VALUE``."""
    return Option(_key(flag), VALUE, flag, required=True)


def switch(flag: str, default: bool | None = False, *, off: str | None = None) -> Option:
    """A boolean ``--flag`` (and ``off``, its ``--no-flag`` form, if the command has one)."""
    return Option(_key(flag), FLAG, flag, default=default, off=off)


@dataclass(frozen=True)
class Output:
    """An output option the runner sets when a stage leaves it unset: ``path`` inside the stage's folder
    (``""``: the folder itself), and only when one of the ``when`` options is set, if any are listed."""

    key: str
    path: str = ""
    when: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageType:
    """A pipeline stage type: the ``polaraug`` subcommand it runs, its options, and its outputs."""

    name: str
    command: tuple[str, ...]
    options: tuple[Option, ...]
    outputs: tuple[Output, ...] = ()

    @property
    def params(self) -> dict[str, Option]:
        """{pipeline key: option} in the command's order."""
        return {o.key: o for o in self.options}

    def with_outputs(self, folder: Path, options: Mapping[str, Any]) -> dict[str, Any]:
        """``options`` with the unset output options placed inside the stage's ``folder``.

        Args:
            folder: the stage's folder, WORKDIR/NAME.
            options: the stage's options from the pipeline file.

        Returns:
            A new dict: ``options`` plus each applicable :class:`Output` not already set.
        """
        opts = dict(options)
        for out in self.outputs:
            if not out.when or any(opts.get(k) for k in out.when):
                opts.setdefault(out.key, str(folder / out.path) if out.path else str(folder))
        return opts


OUT = (Output("out"),)  # the command's output folder is the stage's folder

STAGES: tuple[StageType, ...] = (
    StageType("synth", ("synth",), (
        arg("out"),
        opt("-n", 100),
        opt("--size", "256x256"),
        opt("--mode", "paired"),
        opt("--layout", "bdd100k"),
        opt("--domain", "default"),
        opt("--weather", "mixed"),
        opt("--night", 0.2),
        opt("--val", 0.2),
        opt("--seed", 0),
        opt("--camera"),
        opt("--bits"),
        switch("--dofp", None, off="--no-dofp"),
        switch("--noise", True, off="--no-noise"),
        switch("--masks", off="--no-masks"),
        opt("--workers"),
    ), outputs=OUT),
    StageType("train", ("train",), (
        req("--out"),
        opt("--rgb"),
        opt("--polar"),
        opt("--paired"),
        switch("--render", False, off="--no-render"),
        opt("--render-size", "192x144"),
        opt("--render-cache", 800),
        opt("--render-every", 4),
        opt("--render-domains", "default,shifted"),
        opt("--render-seed", 0),
        opt("--init"),
        opt("--anchor"),
        opt("--anchor-weight"),
        opt("--config"),
        opt("--preset", "reference"),
        opt("--mode"),
        opt("--head"),
        opt("--gan-loss"),
        opt("--n-critic"),
        opt("--d-scales"),
        opt("--feature-matching"),
        opt("--dolp-weight"),
        opt("--context"),
        opt("--upsample"),
        opt("--downsample"),
        opt("--skips"),
        opt("--crop"),
        opt("--ema"),
        opt("--calibration"),
        opt("--steps"),
        opt("--minutes"),
        opt("--seed", 0),
        opt("--candidates"),
        opt("--select-at"),
        opt("--select-seed", 3),
        opt("--select-frames", 48),
        opt("--device"),
        opt("--checkpoint-every", 1000),
        opt("--sample-every", 500),
        switch("--keep-checkpoints", False, off="--no-keep-checkpoints"),
        opt("--adapt", "cyclegan"),
    ), outputs=OUT),
    StageType("translate", ("translate",), (
        arg("src"),
        arg("out"),
        opt("--checkpoint", "default"),
        opt("--format", "auto"),
        switch("--project"),
        opt("--batch", 4),
        opt("--bits"),
        opt("--shard", "0/1"),
        opt("--device"),
        opt("--workers", 4),
        switch("--compile"),
        opt("--calibration"),
        opt("--class-map"),
        switch("--overwrite"),
        many("--where"),
        opt("--limit"),
        opt("--seed", 0),
        switch("--sensor", True, off="--no-sensor"),
        switch("--space-check", True, off="--no-space-check"),
        opt("--backend", "auto"),
        opt("--spin", 1),
        switch("--mirror"),
    ), outputs=OUT),
    StageType("validate", ("validate",), (
        arg("folder"),
        opt("--calibration"),
        opt("--layout", "auto"),
        opt("--json"),
        opt("--plots"),
        opt("--max-inadmissible"),
        opt("--max-residual"),
        opt("--max-dolp-above-1"),
        opt("--max-saturated"),
        opt("--max-unreadable"),
        opt("--ood-model"),
        opt("--max-ood"),
        opt("--tolerance", 1e-06),
        switch("--fix"),
        opt("--repair"),
        opt("--checkpoint"),
        opt("--out"),
        opt("--workers"),
        switch("--skip-bad"),
    ),
              # json and plots go into the stage folder; a repair writes a copy there too ("repaired/"): fixing
              # in place would rewrite the upstream stage's output behind its cache key
              outputs=(Output("json", "report.json"), Output("plots", "plots"),
                       Output("out", "repaired", when=("fix", "repair")))),
    StageType("export-yolo", ("export-yolo",), (
        arg("src"),
        arg("out"),
        opt("--encoding", "intensities"),
    ), outputs=OUT),
    StageType("eval-detection", ("eval-detection",), (
        opt("--real-train"),
        opt("--real-test"),
        many("--synthetic"),
        many("--on-the-fly"),
        opt("--translator", "default"),
        opt("--oracle"),
        many("--control"),
        opt("--real-val"),
        opt("--rgb-train"),
        opt("--rgb-test"),
        opt("--out"),
        opt("--encoding", "intensities"),
        opt("--protocol", "mix"),
        many("--ratio"),
        opt("--budget", "equal-steps"),
        opt("--seeds"),
        opt("--classes"),
        opt("--model", "yolov8n.yaml"),
        opt("--weights"),
        opt("--epochs"),
        opt("--patience", 100),
        opt("--imgsz"),
        opt("--batch", 8),
        opt("--device"),
        opt("--nbs"),
        opt("--real-size"),
        switch("--quick"),
        opt("--checkpoint"),
        opt("--keep-scores"),
        opt("--figures"),
    ), outputs=OUT),
    StageType("eval-translator", ("eval-translator",), (
        req("--checkpoint"),
        req("--paired"),
        opt("--split", "val"),
        opt("--limit"),
        opt("--json"),
        opt("--clean"),
        opt("--pictures"),
        opt("--spin", 1),
        switch("--mirror"),
    ), outputs=(Output("json", "scores.json"),)),
    StageType("reconstruct-train", ("reconstruct", "train"), (
        req("--data"),
        req("--out"),
        opt("--lambda", 1.0),
        opt("--pacgan", 1),
        opt("--density", 0.005),
        opt("--mask", "random"),
        opt("--steps", 2000),
        opt("--crop", 64),
        opt("--batch", 4),
        opt("--gan-loss", "lsgan"),
        opt("--n-critic", 1),
        opt("--kind", "auto"),
        opt("--calibration"),
        opt("--seed", 0),
        opt("--device"),
    ), outputs=OUT),
    StageType("reconstruct-sweep", ("reconstruct", "sweep"), (
        req("--data"),
        req("--out"),
        opt("--lambdas", "0.01,0.1,1,10,100"),
        opt("--seeds", 2),
        opt("--steps", 1000),
        opt("--eval-images", 128),
        opt("--feature-net"),
        opt("--baselines", ""),
        opt("--pacgan", 1),
        opt("--density", 0.005),
        opt("--mask", "random"),
        opt("--crop", 64),
        opt("--batch", 4),
        opt("--kind", "auto"),
        opt("--calibration"),
        opt("--device"),
    ), outputs=OUT),
    StageType("reconstruct-apply", ("reconstruct", "apply"), (
        req("--checkpoint"),
        req("--input"),
        req("--out"),
        opt("--mask"),
        opt("--density", 0.005),
        opt("--seed", 0),
    ), outputs=OUT),
)

STAGE_TYPES: dict[str, StageType] = {t.name: t for t in STAGES}


def command_params(kind: str) -> dict[str, Option]:
    """The options of a stage type.

    Args:
        kind: a stage type (a key of STAGE_TYPES).

    Returns:
        {pipeline key: option} in the command's order.
    """
    return STAGE_TYPES[kind].params


def to_argv(kind: str, options: dict[str, Any]) -> list[str]:
    """Command-line arguments for ``polaraug`` from a stage's options.

    Args:
        kind: a stage type (a key of STAGE_TYPES).
        options: {pipeline key: value}; None values are left out.

    Returns:
        The subcommand, then positional arguments in the command's order, then options: booleans as
        ``--flag``/``--no-flag``, lists repeated for repeatable options and comma-joined otherwise.

    Raises:
        ConfigError: a boolean set to a value its command cannot express (e.g. false for a flag without a
            ``--no-`` form whose default is true).
    """
    argv = list(STAGE_TYPES[kind].command)
    for name, p in command_params(kind).items():
        if name not in options or options[name] is None:
            continue
        value = options[name]
        if p.kind == ARGUMENT:
            argv.append(str(value))
        elif p.kind == FLAG:
            flag = p.flag if value else p.off
            if flag is None:
                if bool(value) != bool(p.default):
                    raise ConfigError(f"option {name!r} of '{kind}' cannot be set to {value!r}")
                continue
            argv.append(flag)
        elif p.kind == MULTI:
            for v in value if isinstance(value, list) else [value]:
                argv += [p.flag, str(v)]
        else:
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            argv += [p.flag, str(value)]
    return argv


def missing_required(kind: str, options: dict[str, Any]) -> list[str]:
    """The required options of stage type ``kind`` that ``options`` leaves unset (or None)."""
    return [n for n, p in command_params(kind).items() if p.required and options.get(n) is None]
