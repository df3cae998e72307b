"""Run a pipeline: stages in dependency order, each in its own folder WORKDIR/NAME as a ``polaraug``
subprocess whose output goes to NAME/stage.log (and the console).

Caching: a stage's key hashes its type, its resolved options, the keys of the stages it depends on and a
fingerprint (file count, bytes, newest mtime) of every external input folder or file it names. A finished
stage whose key is unchanged is skipped; a changed one is rerun from a clean folder, and so is everything
downstream (their keys include its key). An interrupted stage with an unchanged key resumes in place (the
commands themselves resume). A failed stage stops the pipeline and names its log; so does a ``validate`` stage
that exits 1 on a failed threshold (a gate). Where a stage's outputs go is a property of its stage type
(``StageType.outputs`` in commands.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from polaraug.io.atomic import write_text
from polaraug.io.fingerprint import fingerprint
from polaraug.io.lock import output_lock

from .commands import STAGE_TYPES, missing_required, to_argv
from .spec import Pipeline, PipelineError, Stage

DONE, STARTED, LOG = ".stage.json", ".stage-started.json", "stage.log"


class StageFailed(RuntimeError):
    def __init__(self, stage: str, log: Path, code: int):
        self.stage, self.log, self.code = stage, log, code
        super().__init__(f"stage {stage!r} failed (exit {code}); log: {log}")


@dataclass
class RunReport:
    ran: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def stage_options(p: Pipeline, stage: Stage) -> dict[str, Any]:
    """The stage's options with its output locations filled in (inside WORKDIR/NAME).

    Args:
        p: the pipeline.
        stage: one of its stages.

    Returns:
        The stage's options plus its stage type's unset outputs (see ``StageType.outputs``).

    Raises:
        PipelineError: a required option is missing; the message names the file and the stage.
    """
    opts = STAGE_TYPES[stage.type].with_outputs(p.folder(stage.name), stage.options)
    missing = missing_required(stage.type, opts)
    if missing:
        raise PipelineError(f"{p.path}: stages.{stage.name}.with: missing required option(s) {missing} "
                            f"of '{stage.type}'")
    return opts


def _named_paths(value: Any) -> list[Path]:
    """Every path a stage option may name: the value itself, each item of a list, and the PATH of a
    ``NAME=PATH`` value (eval-detection's ``--synthetic``)."""
    out = []
    for v in value if isinstance(value, list) else [value]:
        if isinstance(v, str) and v:
            out.append(Path(v))
            if "=" in v:
                out.append(Path(v.split("=", 1)[1]))
    return out


def external_inputs(p: Pipeline, opts: dict[str, Any]) -> dict[str, Any]:
    """{resolved path: fingerprint} of every existing file or folder the options name outside the work folder
    (inside it are other stages' outputs, covered by their keys). Compared as paths, not strings: a sibling
    ``/x/w2`` of the work folder ``/x/w`` is external."""
    work = Path(p.workdir).resolve()
    external = {}
    for value in opts.values():
        for path in _named_paths(value):
            if path.exists() and not path.resolve().is_relative_to(work):
                external[str(path.resolve())] = fingerprint(path)
    return external


def stage_key(p: Pipeline, stage: Stage, opts: dict[str, Any], keys: dict[str, str]) -> str:
    """The hash that decides whether a finished stage is still valid (see the module docstring)."""
    external = external_inputs(p, opts)
    from polaraug import __version__

    doc = {"polaraug": __version__, "type": stage.type, "options": opts, "upstream": {n: keys[n] for n in stage.needs},
           "inputs": external}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _read_key(path: Path) -> str | None:
    try:
        return json.loads(path.read_text())["key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _prepare(folder: Path, key: str) -> None:
    """Make ``folder`` ready for a run with ``key``: keep it to resume the same run, clear it when it holds
    another run's outputs; never delete a folder this runner did not create."""
    if folder.exists() and _read_key(folder / STARTED) != key:
        if not (folder / STARTED).exists() and any(folder.iterdir()):
            raise PipelineError(f"{folder}: exists and was not made by 'polaraug run'; move it or choose "
                                "another workdir")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / STARTED, json.dumps({"key": key}) + "\n")


def _execute(argv: list[str], log: Path, echo: bool) -> int:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out, subprocess.Popen([sys.executable, "-m", "polaraug", *argv], stdout=subprocess.PIPE,
                                                 stderr=subprocess.STDOUT, env=env) as proc:
        out.write(("$ polaraug " + " ".join(argv) + "\n").encode())
        while chunk := proc.stdout.read1(65536):
            out.write(chunk)
            out.flush()
            if echo:
                sys.stderr.buffer.write(chunk)
                sys.stderr.flush()
        return proc.wait()


def run_pipeline(p: Pipeline, echo: bool = True, say=print) -> RunReport:
    """Run every stage that is not cached; raise StageFailed on the first failure. One runner per workdir
    (a second gets a one-line error naming the first's pid)."""
    with output_lock(p.workdir, f"polaraug run {p.name}"):
        return _run_stages(p, echo, say)


def _run_stages(p: Pipeline, echo: bool, say) -> RunReport:
    report, keys = RunReport(), {}
    for i, stage in enumerate(p.stages.values(), 1):
        folder = p.folder(stage.name)
        opts = stage_options(p, stage)
        key = keys[stage.name] = stage_key(p, stage, opts, keys)
        head = f"[{i}/{len(p.stages)}] {stage.name} ({stage.type})"
        if _read_key(folder / DONE) == key:
            say(f"{head}: cached")
            report.cached.append(stage.name)
            continue
        say(f"{head}: running; log {folder / LOG}")
        _prepare(folder, key)
        (folder / DONE).unlink(missing_ok=True)  # resumed or not, it is unfinished until it succeeds
        t0 = time.perf_counter()
        argv = to_argv(stage.type, opts)
        code = _execute(argv, folder / LOG, echo)
        if code != 0:
            raise StageFailed(stage.name, folder / LOG, code)
        report.seconds[stage.name] = time.perf_counter() - t0
        say(f"{head}: done in {report.seconds[stage.name]:.0f} s")
        write_text(folder / DONE, json.dumps({"key": key, "argv": argv, "seconds": report.seconds[stage.name]},
                                             indent=1) + "\n")
        report.ran.append(stage.name)
    return report
