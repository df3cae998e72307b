"""Seed selection: candidates trained briefly on renders, judged on held-out renders, the best continued."""

import json

import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.errors import ConfigError
from polaraug.translate import load_translator
from polaraug.translate import selection as sel
from polaraug.translate.rendered import RenderSpec
from polaraug.translate.selection import Selection, parse_seeds, run_selection

SPEC = RenderSpec(width=64, height=48, cache=4, refresh=1, domains=("default",), workers=1)


def _fake_training(calls):
    def train(spec, run, seed):
        calls.append(seed)
        (run / "checkpoints").mkdir(parents=True, exist_ok=True)
        (run / "checkpoints" / "last.pt").write_text(f"seed {seed} at its select_at step")
        (run / "config.json").write_text(json.dumps({"seed": seed, "render": spec.to_dict()}))
        return run / "checkpoints" / "last.pt"
    return train


def test_the_lowest_validation_error_is_chosen_copied_and_a_rerun_trains_nothing(tmp_path, monkeypatch):
    errors = {0: 30.0, 1: 12.0, 4: 20.0}
    monkeypatch.setattr(sel, "validation_sets", lambda spec, root, **_: [root / "default"])
    monkeypatch.setattr(sel, "validation_score", lambda ckpt, folders: {
        "aolp_error_deg": errors[int(ckpt.read_text().split()[1])]})
    calls = []
    selection = Selection((0, 1, 4), select_at=5)
    assert run_selection(SPEC, tmp_path, selection, _fake_training(calls), log=lambda _: None) == 1
    assert calls == [0, 1, 4]
    assert (tmp_path / "checkpoints" / "last.pt").read_text().startswith("seed 1")  # the winner, copied
    assert json.loads((tmp_path / "config.json").read_text())["seed"] == 1
    record = json.loads((tmp_path / "selection" / "selection.json").read_text())
    assert record["chosen"] == 1 and record["candidates"]["4"]["aolp_error_deg"] == 20.0
    assert run_selection(SPEC, tmp_path, selection, _fake_training(calls), log=lambda _: None) == 1
    assert calls == [0, 1, 4]  # the rerun trained and copied nothing
    with pytest.raises(ConfigError, match="other candidates"):
        run_selection(SPEC, tmp_path, Selection((0, 1), select_at=5), _fake_training(calls), log=lambda _: None)


def test_an_interrupted_selection_trains_only_the_missing_candidates(tmp_path, monkeypatch):
    monkeypatch.setattr(sel, "validation_sets", lambda spec, root, **_: [])
    monkeypatch.setattr(sel, "validation_score", lambda ckpt, folders: {"aolp_error_deg": 1.0})
    calls = []

    def dies_on_seed_1(spec, run, seed):
        if seed == 1:
            raise KeyboardInterrupt
        return _fake_training(calls)(spec, run, seed)

    with pytest.raises(KeyboardInterrupt):
        run_selection(SPEC, tmp_path, Selection((0, 1), select_at=5), dies_on_seed_1, log=lambda _: None)
    assert not (tmp_path / "checkpoints").exists()  # nothing chosen, nothing copied
    run_selection(SPEC, tmp_path, Selection((0, 1), select_at=5), _fake_training(calls), log=lambda _: None)
    assert calls == [0, 1]


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(seeds=(0,), select_at=1), "at least two distinct"),
    (dict(seeds=(0, 0), select_at=1), "at least two distinct"),
    (dict(seeds=(0, 3), select_at=1), "--select-seed 3 is also a candidate"),
    (dict(seeds=(0, 1), select_at=0), "positive"),
])
def test_bad_selections_are_refused(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Selection(**kwargs)


def test_seeds_parse():
    assert parse_seeds("0, 1,4") == (0, 1, 4)
    with pytest.raises(ConfigError, match="integer seeds"):
        parse_seeds("0,one")


def test_validation_renders_are_the_training_domains_with_their_own_seed(tmp_path):
    spec = RenderSpec(width=64, height=48, domains=("default", "shifted"), seed=0, workers=1)
    folders = sel.validation_sets(spec, tmp_path, seed=7, frames=4)
    assert [f.name for f in folders] == ["default", "shifted"]
    for f in folders:
        summary = json.loads((f / "test" / ".synth" / "summary.json").read_text())
        assert summary["domain"] == f.name and sum(summary["frames"].values()) == 2
        assert (f / "truth" / "polar").is_dir() and any((f / "truth" / "polar" / "masks").rglob("*.png"))
    first = sorted((tmp_path / "default" / "test" / "polar").rglob("*.png"))[0]
    assert "synth-0007-" in first.name  # seed 7's frames, not a candidate's


def test_cli_trains_the_candidates_continues_the_best_and_refuses_what_it_cannot_do(tmp_path):
    runner = CliRunner()
    run = tmp_path / "run"
    base = ["train", "--render", "--render-size", "64x48", "--render-cache", "4", "--render-every", "1",
            "--render-domains", "default", "--preset", "cpu-small", "--out", str(run), "--sample-every", "100",
            "--candidates", "0,1", "--select-at", "1", "--select-frames", "4"]
    res = runner.invoke(app, [*base, "--steps", "2"])
    assert res.exit_code == 0, res.output
    record = json.loads((run / "selection" / "selection.json").read_text())
    scores = {int(s): c["aolp_error_deg"] for s, c in record["candidates"].items()}
    assert set(scores) == {0, 1} and record["chosen"] == min(scores, key=scores.get)
    assert "continuing seed" in res.output
    config = json.loads((run / "config.json").read_text())
    assert config["seed"] == config["render"]["seed"] == record["chosen"]
    _, state = load_translator(run / "checkpoints" / "last.pt")
    assert state["step"] == 2
    candidate = run / "selection" / f"seed_{record['chosen']}" / "checkpoints" / "last.pt"
    before = candidate.stat().st_mtime_ns
    res = runner.invoke(app, [*base, "--steps", "3"])  # resumes the chosen run; the candidates stay
    assert res.exit_code == 0, res.output
    assert load_translator(run / "checkpoints" / "last.pt")[1]["step"] == 3
    assert candidate.stat().st_mtime_ns == before
    for extra, message in ((["--minutes", "1", "--steps", "4"], "not --minutes"),
                           (["--steps", "0"], "at least --select-at"),
                           (["--seed", "5", "--steps", "4"], "--seed 5 is not among")):
        res = runner.invoke(app, [*base, *extra])
        assert res.exit_code == 2 and message in res.output, res.output
    res = runner.invoke(app, ["train", "--paired", str(tmp_path), "--out", str(tmp_path / "p"), "--candidates",
                              "0,1", "--steps", "4"])
    assert res.exit_code == 2 and "add --render" in res.output
