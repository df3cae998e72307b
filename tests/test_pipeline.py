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
    assert "admissibility  check" in res.output and "detection      real " in res.output

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
    del doc["stages"]["translated"]["with"]["checkpoint"]
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    res = CliRunner().invoke(app, ["run", str(tmp_path / "p.yaml"), "--out", str(tmp_path / "w")])
    assert res.exit_code == 2 and "stages.translated.with" in res.output and "checkpoint" in res.output
    res = CliRunner().invoke(app, ["run", str(TINY), "--out", str(tmp_path / "w"), "--set", "sise=1"])
    assert res.exit_code == 2 and "params.sise" in res.output


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_pipelines_validate(path):
    p = load_pipeline(path)
    assert p.stages and all(s.type for s in p.stages.values())
