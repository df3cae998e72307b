"""Pipeline files: parse, substitute references, validate, with errors that name the file and the key.

    name: demo
    workdir: demo_out                  # stage folders go here (``polaraug run --out`` overrides)
    params: {frames: 200}              # referenced as ${params.frames}
    stages:
      data:                            # a stage's output folder is WORKDIR/NAME, referenced as ${data}
        type: synth                    # a polaraug command (see STAGE_TYPES)
        with: {n: "${params.frames}", size: 128x96}    # the command's options and arguments
      translator:
        type: train
        with: {rgb: "${data}/rgb", polar: "${data}/polar", preset: cpu-small}

A stage depends on every stage it references (and on those listed in ``after``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from polaraug.errors import InputError, excerpt, parse_reason

from .commands import STAGE_TYPES, command_params

REF = re.compile(r"\$\{([A-Za-z0-9_.-]+)\}")
TOP_KEYS = {"name", "workdir", "params", "stages"}
STAGE_KEYS = {"type", "with", "after"}
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class PipelineError(InputError):
    """An invalid pipeline file; the message names the file and the key."""


@dataclass
class Stage:
    name: str
    type: str
    options: dict[str, Any]
    needs: list[str] = field(default_factory=list)


@dataclass
class Pipeline:
    name: str
    path: Path
    workdir: Path
    stages: dict[str, Stage]  # in a valid run order

    def folder(self, stage: str) -> Path:
        return self.workdir / stage


def _suggest(word: Any, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _substitute(value: Any, where: str, env: dict[str, str], refs: set[str], err) -> Any:
    """Replace ${...} in strings (recursively in lists/dicts); a whole-string reference keeps its type."""
    if isinstance(value, dict):
        return {k: _substitute(v, f"{where}.{k}", env, refs, err) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, f"{where}[{i}]", env, refs, err) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def lookup(name: str) -> Any:
        if name not in env:
            err(where, f"unknown reference ${{{name}}}{_suggest(name, env)}")
        if not name.startswith(("params.", "workdir")):
            refs.add(name)
        return env[name]

    whole = REF.fullmatch(value)
    if whole:
        return lookup(whole.group(1))
    return REF.sub(lambda m: str(lookup(m.group(1))), value)


def load_pipeline(path: str | Path, workdir: str | Path | None = None,
                  params: dict[str, Any] | None = None) -> Pipeline:
    """Read and validate a pipeline file; ``workdir`` and ``params`` override the file's."""
    path = Path(path)

    def err(where: str, msg: str):
        raise PipelineError(f"{path}: {where}: {msg}")

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PipelineError(f"{path}: no such pipeline file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise PipelineError(f"{path}: cannot read the pipeline file: {parse_reason(e)}") from None
    except (yaml.YAMLError, RecursionError) as e:
        raise PipelineError(f"{path}: not valid YAML ({parse_reason(e)})") from None
    if not isinstance(doc, dict):
        err("top level", "must be a mapping with 'stages'")
    for key in doc:
        if key not in TOP_KEYS:
            err(key, f"unknown key{_suggest(key, TOP_KEYS)}; allowed: {sorted(TOP_KEYS)}")
    stages = doc.get("stages")
    if not isinstance(stages, dict) or not stages:
        err("stages", "must be a non-empty mapping of stage name -> stage")
    file_params = doc.get("params") or {}
    if not isinstance(file_params, dict):
        err("params", "must be a mapping")
    for key in params or {}:
        if key not in file_params:
            err(f"params.{key}", f"not a parameter of this pipeline{_suggest(key, file_params)}; "
                                 f"it has {sorted(file_params, key=str)}")
    merged = {**file_params, **(params or {})}
    if not isinstance(doc.get("workdir") or "", str):
        err("workdir", f"must be a folder name, got {excerpt(doc['workdir'])}")
    wd = Path(workdir if workdir is not None else doc.get("workdir") or path.stem).resolve()
    env: dict[str, Any] = {"workdir": str(wd), **{f"params.{k}": v for k, v in merged.items()}}
    for name in stages:
        if not isinstance(name, str) or not NAME.match(name):
            err(f"stages.{name}", "stage names are letters, digits, '_' and '-', starting with a letter")
        env[name] = str(wd / name)
    parsed = {name: _parse_stage(name, body, stages, env, err) for name, body in stages.items()}
    return Pipeline(str(doc.get("name") or path.stem), path, wd, _ordered(parsed, err))


def _parse_stage(name: str, body: Any, stages: dict, env: dict[str, Any], err) -> Stage:
    """One validated stage of a pipeline file (``err(where, msg)`` raises a PipelineError naming the key)."""
    where = f"stages.{name}"
    if not isinstance(body, dict):
        err(where, "must be a mapping with 'type' and 'with'")
    for key in body:
        if key not in STAGE_KEYS:
            err(f"{where}.{key}", f"unknown key{_suggest(key, STAGE_KEYS)}; allowed: {sorted(STAGE_KEYS)}")
    kind = body.get("type")
    if not isinstance(kind, str) or kind not in STAGE_TYPES:
        err(f"{where}.type", f"unknown stage type {excerpt(kind)}{_suggest(str(kind), STAGE_TYPES)}; "
                             f"one of {sorted(STAGE_TYPES)}")
    options = body.get("with") or {}
    if not isinstance(options, dict):
        err(f"{where}.with", "must be a mapping of option -> value")
    known = command_params(kind)
    for key in options:
        if str(key).replace("-", "_") not in known:
            err(f"{where}.with.{key}", f"not an option of '{kind}'{_suggest(str(key).replace('-', '_'), known)}; "
                                       f"options: {sorted(known)}")
    refs: set[str] = set()
    options = _substitute(options, f"{where}.with", env, refs, err)
    after = body.get("after") or []
    if not isinstance(after, list) or any(not isinstance(a, str) or a not in stages for a in after):
        err(f"{where}.after", f"must list stage names of this pipeline, got {excerpt(after)}")
    if name in refs or name in after:
        err(where, "a stage cannot depend on itself")
    return Stage(name, kind, {str(k).replace("-", "_"): v for k, v in options.items()}, sorted(refs | set(after)))


def _ordered(stages: dict[str, Stage], err) -> dict[str, Stage]:
    """Stages in dependency order (file order among independent ones); a cycle is an error."""
    done: dict[str, Stage] = {}
    pending = dict(stages)
    while pending:
        ready = [s for s in pending.values() if all(n in done for n in s.needs)]
        if not ready:
            err("stages", f"dependency cycle among {sorted(pending)}")
        for s in ready[:1]:
            done[s.name] = pending.pop(s.name)
    return done
