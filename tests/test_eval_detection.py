"""eval-detection end to end on tiny generated sets: 1 seed, 1 epoch, 64 px (checks plumbing, not AP)."""

import json

import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.synth.generate import SynthConfig, generate


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("ed")
    for seed, name in ((1, "train"), (2, "test"), (3, "syn")):
        generate(SynthConfig(n=4, width=96, height=64, seed=seed, mode="polar"), root / name, workers=1,
                 progress=False)
    return root


@pytest.mark.parametrize("protocol", ["mix", "pretrain-finetune"])
def test_eval_detection_runs_both_arms_and_reports(sets, tmp_path, protocol):
    res = CliRunner().invoke(app, ["eval-detection", "--real-train", str(sets / "train"), "--real-test",
                                   str(sets / "test"), "--synthetic", str(sets / "syn"), "--out", str(tmp_path),
                                   "--seeds", "1", "--epochs", "1", "--imgsz", "64", "--batch", "4",
                                   "--protocol", protocol, "--encoding", "stokes"])
    assert res.exit_code == 0, res.output
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["arms"]) == {"real", "real+synthetic"}
    assert results["settings"]["protocol"] == protocol and results["settings"]["encoding"] == "stokes"
    assert any("PolarRandomFlip" in line for line in results["augmentation"])
    for arm in results["arms"].values():
        assert 0 <= arm["map50"]["mean"] <= 1 and len(arm["map50"]["runs"]) == 1
    assert (tmp_path / "report.md").is_file() and (tmp_path / "report_ap.png").is_file()
    assert (tmp_path / "datasets" / "synthetic" / "data.yaml").is_file()


def test_bad_settings_fail_early(sets, tmp_path):
    res = CliRunner().invoke(app, ["eval-detection", "--real-train", str(sets / "train"), "--real-test",
                                   str(sets / "test"), "--synthetic", str(sets / "syn"), "--out", str(tmp_path),
                                   "--weights", str(tmp_path / "none.pt")])
    assert res.exit_code == 2 and "none.pt" in res.output and "downloaded" in res.output
