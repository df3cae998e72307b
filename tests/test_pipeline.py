"""polaraug run: every stage type runs, a rerun skips them all, a changed stage reruns with its downstream
stages only, invalid files fail naming the key; the shipped pipelines validate."""

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.pipeline.spec import PipelineError, load_pipeline

TINY = Path(__file__).parent / "tiny_pipeline.yaml"
SHIPPED = sorted((Path(__file__).parent.parent / "pipelines").glob("*.yaml"))


def _statuses(output: str) -> dict[str, str]:
    """{stage: 'running' | 'cached'} from the runner's '[i/n] NAME (TYPE): STATUS' lines."""
    out = {}
    for line in output.splitlines():
        if line.startswith("[") and "): " in line:
            name = line.split("] ", 1)[1].split(" (", 1)[0]
            out.setdefault(name, line.split("): ", 1)[1].split(";")[0])  # not the later "done in" line
    return out


def test_run_caches_stages_and_reruns_changed_ones_downstream(tmp_path):
    work = tmp_path / "w"
    res = CliRunner().invoke(app, ["run", str(TINY), "--out", str(work), "--quiet"])
    assert res.exit_code == 0, res.output
    first = _statuses(res.output)
    assert set(first.values()) == {"running"} and len(first) == 7
    assert (work / "detection" / "results.json").is_file() and (work / "recon" / "checkpoints" / "last.pt").is_file()
    assert "admissibility  check" in res.output and "detection      real: mAP50" in res.output

    res = CliRunner().invoke(app, ["run", str(TINY), "--out", str(work), "--quiet"])
    assert res.exit_code == 0, res.output
    assert set(_statuses(res.output).values()) == {"cached"}

    changed = yaml.safe_load(TINY.read_text())
    changed["stages"]["translated"]["with"]["batch"] = 2
    (tmp_path / "changed.yaml").write_text(yaml.safe_dump(changed))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "changed.yaml"), "--out", str(work), "--quiet"])
    assert res.exit_code == 0, res.output
    st = _statuses(res.output)
    assert {k for k, v in st.items() if v == "running"} == {"translated", "check", "yolo", "detection"}
    assert {k for k, v in st.items() if v == "cached"} == {"data", "translator", "recon"}


def test_failed_stage_stops_the_pipeline_and_names_its_log(tmp_path):
    doc = {"stages": {"bad": {"type": "validate", "with": {"folder": str(tmp_path / "missing")}},
                      "after": {"type": "synth", "with": {"n": 1}, "after": ["bad"]}}}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "p.yaml"), "--out", str(tmp_path / "w"), "--quiet"])
    assert res.exit_code == 1 and "stage 'bad' failed" in res.output
    assert str(tmp_path / "w" / "bad" / "stage.log") in res.output
    assert not (tmp_path / "w" / "after").exists()


def _cycle(d):
    d["stages"]["data"]["after"] = ["recon"]
    d["stages"]["recon"]["after"] = ["data"]


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["stages"]["data"]["with"].update(sizee="8x8"),
     "stages.data.with.sizee: not an option of 'synth' (did you mean 'size'?)"),
    (lambda d: d["stages"]["data"].update(type="synthh"), "stages.data.type: unknown stage type 'synthh'"),
    (lambda d: d["stages"]["translator"]["with"].update(rgb="${dataa}/rgb"),
     "stages.translator.with.rgb: unknown reference ${dataa}"),
    (lambda d: d.update(stagez={}), "stagez: unknown key (did you mean 'stages'?)"),
    (_cycle, "dependency cycle"),
])
def test_invalid_pipelines_name_the_key(tmp_path, change, message):
    doc = yaml.safe_load(TINY.read_text())
    change(doc)
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    with pytest.raises(PipelineError) as e:
        load_pipeline(tmp_path / "p.yaml")
    assert message in str(e.value) and "p.yaml" in str(e.value)


def test_missing_required_option_and_unknown_param_are_errors(tmp_path):
    doc = yaml.safe_load(TINY.read_text())
    del doc["stages"]["check"]["with"]["folder"]
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "p.yaml"), "--out", str(tmp_path / "w")])
    assert res.exit_code == 2 and "stages.check.with" in res.output and "folder" in res.output
    res = CliRunner().invoke(app, ["run", str(TINY), "--out", str(tmp_path / "w"), "--set", "sise=1"])
    assert res.exit_code == 2 and "params.sise" in res.output


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_pipelines_validate(path):
    p = load_pipeline(path)
    assert p.stages and all(s.type for s in p.stages.values())


def _cli_params(kind: str) -> list[tuple]:
    """(key, kind, flag, required, default, off) of a stage type's command, read from the CLI."""
    import typer.main

    from polaraug.pipeline.commands import STAGE_TYPES

    cmd = typer.main.get_command(app)
    for part in STAGE_TYPES[kind].command:
        cmd = cmd.commands[part]
    rows = []
    for p in cmd.params:
        if p.name == "help":
            continue
        default = str(p.default) if isinstance(p.default, Path) else p.default
        if p.param_type_name == "argument":
            rows.append((p.name, "argument", None, p.required, None, None))
            continue
        flag = ([o for o in p.opts if o.startswith("--")] or p.opts)[0]
        assert flag == p.opts[0], f"{kind}: {p.opts}: the long form must come first (it is what to_argv passes)"
        is_flag = getattr(p, "is_flag", False)
        off = (p.secondary_opts or [None])[0] if is_flag else None
        kind_ = "flag" if is_flag else "multi" if getattr(p, "multiple", False) else "value"
        rows.append((flag.lstrip("-").replace("-", "_"), kind_, flag, p.required, default, off))
    return rows


def _table_source(rows: list[tuple]) -> str:
    """The options of a stage type as polaraug/pipeline/commands.py declares them (to paste there)."""
    def lit(v) -> str:
        return f'"{v}"' if isinstance(v, str) else repr(v)

    lines = []
    for key, kind, flag, required, default, off in rows:
        if kind == "argument":
            lines.append(f'arg("{key}")')
        elif kind == "flag":
            extra = (f", {lit(default)}" if default is not False else "") + (f', off="{off}"' if off else "")
            lines.append(f'switch("{flag}"{extra})')
        elif kind == "multi":
            lines.append(f'many("{flag}")')
        elif required:
            lines.append(f'req("{flag}")')
        else:
            lines.append(f'opt("{flag}"' + (f", {lit(default)}" if default is not None else "") + ")")
    return "\n".join(f"        {line}," for line in lines)


def test_stage_option_table_matches_the_commands():
    """polaraug/pipeline/commands.py declares each stage type's options; they must be the command's own."""
    from polaraug.pipeline.commands import STAGE_TYPES

    for kind, stage_type in STAGE_TYPES.items():
        table = [(o.key, o.kind, o.flag, o.required, o.default, o.off) for o in stage_type.options]
        cli = _cli_params(kind)
        assert table == cli, (f"stage type {kind!r} differs from 'polaraug {' '.join(stage_type.command)}'; "
                              f"its options in polaraug/pipeline/commands.py should read:\n{_table_source(cli)}")
        for out in stage_type.outputs:
            assert out.key in stage_type.params and all(w in stage_type.params for w in out.when), kind


def test_stage_outputs_go_into_the_stage_folder(tmp_path):
    from polaraug.pipeline.commands import STAGE_TYPES, to_argv

    folder = tmp_path / "check"
    plain = STAGE_TYPES["validate"].with_outputs(folder, {"folder": "x"})
    assert plain == {"folder": "x", "json": str(folder / "report.json"), "plots": str(folder / "plots")}
    fixed = STAGE_TYPES["validate"].with_outputs(folder, {"folder": "x", "fix": True})
    assert fixed["out"] == str(folder / "repaired")  # never in place into the upstream stage's folder
    assert STAGE_TYPES["synth"].with_outputs(folder, {"n": 1}) == {"n": 1, "out": str(folder)}
    assert STAGE_TYPES["eval-translator"].with_outputs(folder, {}) == {"json": str(folder / "scores.json")}
    assert to_argv("synth", {"out": "o", "n": 2, "noise": False, "dofp": True}) == [
        "synth", "o", "-n", "2", "--dofp", "--no-noise"]
    assert to_argv("validate", {"folder": "f", "fix": True, "max_inadmissible": 0, "json": "r.json"}) == [
        "validate", "f", "--json", "r.json", "--max-inadmissible", "0", "--fix"]
    assert to_argv("reconstruct-sweep", {"data": "d", "lambdas": [0.1, 10]})[:4] == [
        "reconstruct", "sweep", "--data", "d"]
    assert to_argv("reconstruct-sweep", {"data": "d", "lambdas": [0.1, 10]})[-2:] == ["--lambdas", "0.1,10"]


def test_the_pipeline_package_does_not_import_the_cli():
    import subprocess
    import sys

    code = ("import sys, polaraug.pipeline.spec, polaraug.pipeline.runner, polaraug.pipeline.summary; "
            "bad = sorted(m for m in sys.modules if m.startswith(('polaraug.cli', 'typer'))); print(bad); "
            "sys.exit(1 if bad else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def _gate_pipeline(tmp_path, folder: Path) -> Path:
    """A validate stage on an external set and a cheap stage after it."""
    doc = {"stages": {"check": {"type": "validate", "with": {"folder": str(folder), "workers": 1}},
                      "after": {"type": "synth", "with": {"n": 1, "size": "16x16", "workers": 1},
                                "after": ["check"]}}}
    path = tmp_path / "gate.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def _external_set(path: Path) -> Path:
    from polaraug.synth.generate import SynthConfig, generate

    generate(SynthConfig(n=2, width=24, height=16, seed=1, mode="polar", val_fraction=0.0), path, workers=1,
             progress=False)
    return path


def _touch_one_image(folder: Path) -> None:
    import os

    img = next((folder / "images").rglob("*.png"))
    st = img.stat()
    os.utime(img, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


@pytest.mark.parametrize("sibling", [False, True])
def test_a_changed_external_input_reruns_its_stage_and_downstream(tmp_path, sibling):
    """Including a folder beside the work folder whose path starts with the work folder's (/x/w2 vs /x/w)."""
    work = tmp_path / "w"
    ext = _external_set(tmp_path / ("w2" if sibling else "ext"))
    pipeline = _gate_pipeline(tmp_path, ext)

    def run() -> dict[str, str]:
        res = CliRunner().invoke(app, ["run", str(pipeline), "--out", str(work), "--quiet"])
        assert res.exit_code == 0, res.output
        return _statuses(res.output)

    assert set(run().values()) == {"running"}
    assert set(run().values()) == {"cached"}
    _touch_one_image(ext)  # e.g. the set was re-generated in place
    assert run() == {"check": "running", "after": "running"}


def test_list_and_named_inputs_are_fingerprinted(tmp_path):
    from polaraug.pipeline.runner import external_inputs

    p = load_pipeline(_gate_pipeline(tmp_path, tmp_path / "none"), workdir=tmp_path / "w")
    a, b = _external_set(tmp_path / "a"), _external_set(tmp_path / "b")
    (tmp_path / "w" / "stage").mkdir(parents=True)
    opts = {"synthetic": [f"one={a}", f"two={b}"], "real_train": str(tmp_path / "w" / "stage"), "n": 3}
    before = external_inputs(p, opts)
    assert set(before) == {str(a.resolve()), str(b.resolve())}  # the work folder's own stage is not external
    _touch_one_image(b)
    after = external_inputs(p, opts)
    assert after[str(a.resolve())] == before[str(a.resolve())] and after[str(b.resolve())] != before[str(b.resolve())]


def test_an_interrupted_stage_resumes_in_its_folder(tmp_path):
    work = tmp_path / "w"
    pipeline = _gate_pipeline(tmp_path, _external_set(tmp_path / "ext"))
    assert CliRunner().invoke(app, ["run", str(pipeline), "--out", str(work), "--quiet"]).exit_code == 0
    (work / "after" / ".stage.json").unlink()  # as if killed before it finished
    (work / "after" / "partial.txt").write_text("work of the interrupted run")
    res = CliRunner().invoke(app, ["run", str(pipeline), "--out", str(work), "--quiet"])
    assert res.exit_code == 0, res.output
    assert _statuses(res.output) == {"check": "cached", "after": "running"}
    assert (work / "after" / "partial.txt").is_file()  # resumed in place, not cleared
