"""A resumed ``polaraug train`` keeps the generator settings its run started with (RESUMED_KEYS)."""

import json

import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import load_checkpoint


@pytest.mark.parametrize(("option", "key", "value"), [("--ema", "ema", 0.9), ("--downsample", "downsample", "blur"),
                                                         ("--skips", "skips", 1), ("--crop", "crop", 32)])
def test_a_resume_without_the_option_keeps_the_runs_setting(tmp_path, option, key, value):
    paired = tmp_path / "paired"
    generate(SynthConfig(n=3, width=64, height=48, seed=4), paired, workers=1, progress=False)
    base = ["train", "--preset", "cpu-small", "--paired", str(paired), "--out", str(tmp_path / "run")]
    res = CliRunner().invoke(app, [*base, "--steps", "2", option, str(value)])
    assert res.exit_code == 0, res.output
    ckpt = tmp_path / "run" / "checkpoints" / "last.pt"
    assert getattr(load_checkpoint(ckpt)[0].cfg, key) == value
    res = CliRunner().invoke(app, [*base, "--steps", "3"])  # resumed without the option: the run's own setting
    assert res.exit_code == 0, res.output
    model, state = load_checkpoint(ckpt)
    assert getattr(model.cfg, key) == value and state["step"] == 3
    assert json.loads((tmp_path / "run" / "config.json").read_text())["config"][key] == value
    if key == "ema":  # the average went on through the resumed step and is kept in the checkpoint
        assert "g_ema" in state["nets"] and int(model.g_ema.n_averaged) == 3
