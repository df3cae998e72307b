"""Stage types: which ``polaraug`` command each runs, and its parameters (read from the command itself, so
pipeline validation never drifts from the CLI)."""

from __future__ import annotations

import functools
from typing import Any

STAGE_TYPES: dict[str, tuple[str, ...]] = {
    "synth": ("synth",),
    "train": ("train",),
    "translate": ("translate",),
    "validate": ("validate",),
    "export-yolo": ("export-yolo",),
    "eval-detection": ("eval-detection",),
    "eval-translator": ("eval-translator",),
    "reconstruct-train": ("reconstruct", "train"),
    "reconstruct-sweep": ("reconstruct", "sweep"),
    "reconstruct-apply": ("reconstruct", "apply"),
}

@functools.cache
def _command(kind: str):
    import typer.main

    from polaraug.cli import app

    cmd = typer.main.get_command(app)
    for part in STAGE_TYPES[kind]:
        cmd = cmd.commands[part]
    return cmd


def _key(p) -> str:
    """A parameter's name in pipeline files: the option as typed without dashes (--mix-ratio -> mix_ratio,
    --json -> json, -n -> n), or the argument's name."""
    if p.param_type_name == "argument":
        return p.name
    longs = [o for o in p.opts if o.startswith("--")] or p.opts
    return longs[0].lstrip("-").replace("-", "_")


def command_params(kind: str) -> dict[str, Any]:
    """{pipeline key: click parameter} of a stage type's command."""
    return {_key(p): p for p in _command(kind).params if p.name != "help"}


def to_argv(kind: str, options: dict[str, Any]) -> list[str]:
    """Command-line arguments for ``polaraug`` from a stage's options (positional arguments in the
    command's order, then options; booleans as --flag/--no-flag; lists as repeated or comma-joined)."""
    params = command_params(kind)
    argv = list(STAGE_TYPES[kind])
    for name, p in params.items():
        if name not in options or options[name] is None:
            continue
        value = options[name]
        if p.param_type_name == "argument":
            argv.append(str(value))
        elif getattr(p, "is_flag", False):
            opts = p.opts if value else (p.secondary_opts or [])
            if value and not opts or not value and not p.secondary_opts:
                if bool(value) != bool(p.default):
                    raise ValueError(f"option {name!r} of '{kind}' cannot be set to {value!r}")
                continue
            argv.append(opts[0])
        else:
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            argv += [p.opts[0], str(value)]
    return argv


def missing_required(kind: str, options: dict[str, Any]) -> list[str]:
    return [n for n, p in command_params(kind).items() if p.required and options.get(n) is None]
