"""eval-detection end to end on tiny generated sets: 1 seed, 1 epoch, 64 px (checks plumbing, not AP)."""

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.detect import datasets
from polaraug.synth.generate import SynthConfig, generate


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("ed")
    for seed, name, mode in ((1, "train", "paired"), (2, "test", "paired"), (3, "syn", "polar")):
        generate(SynthConfig(n=4, width=96, height=64, seed=seed, mode=mode, val_fraction=0.0), root / name, workers=1,
                 progress=False)
    return root


def _run(sets, out, *extra):
    return CliRunner().invoke(app, ["eval-detection", "--real-train", str(sets / "train" / "polar"), "--real-test",
                                    str(sets / "test" / "polar"), "--synthetic", str(sets / "syn"), "--out",
                                    str(out), "--seeds", "1", "--epochs", "1", "--imgsz", "64", "--batch", "4",
                                    *extra])


@pytest.mark.parametrize(("encoding", "protocol"), [("intensities", "mix"), ("stokes", "pretrain-finetune"),
                                                    ("i0-i45-i90", "mix"), ("hsv", "pretrain-finetune")])
def test_eval_detection_runs_every_encoding_and_protocol(sets, tmp_path, encoding, protocol):
    res = _run(sets, tmp_path, "--protocol", protocol, "--encoding", encoding)
    assert res.exit_code == 0, res.output
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results) == {"settings", "inputs", "augmentation", "arms", "gain_map50", "gain_map50_95"}
    assert set(results["arms"]) == {"real", "real+synthetic"}
    assert results["settings"]["protocol"] == protocol and results["settings"]["encoding"] == encoding
    assert any("PolarRandomFlip" in line for line in results["augmentation"])
    for arm in results["arms"].values():
        assert set(arm) == {"map50", "map50_95", "per_class_ap50", "by_weather_map50"}
        assert 0 <= arm["map50"]["mean"] <= 1 and len(arm["map50"]["runs"]) == 1
    assert set(results["gain_map50"]) == {"absolute", "relative"}
    assert (tmp_path / "report.md").is_file() and (tmp_path / "report_ap.png").is_file()
    channels = 4 if encoding == "intensities" else 3
    assert f"channels: {channels}" in (tmp_path / "datasets" / "synthetic" / "data.yaml").read_text()
    assert "| real+synthetic |" in res.output  # the console table


def test_rgb_reference_arm_reruns_from_cache_and_refuses_other_settings(sets, tmp_path):
    rgb = ["--rgb-train", str(sets / "train" / "rgb"), "--rgb-test", str(sets / "test" / "rgb")]
    res = _run(sets, tmp_path, *rgb)
    assert res.exit_code == 0, res.output
    first = json.loads((tmp_path / "results.json").read_text())
    assert set(first["arms"]) == {"real", "real+synthetic", "rgb"}
    assert "channels: 3" in (tmp_path / "datasets" / "rgb_train" / "data.yaml").read_text()

    shutil.rmtree(tmp_path / "runs")  # a rerun takes finished (arm, seed) scores from OUT/scores
    res = _run(sets, tmp_path, *rgb)
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "runs").exists()
    assert json.loads((tmp_path / "results.json").read_text())["arms"] == first["arms"]

    res = _run(sets, tmp_path, *rgb, "--epochs", "2")
    assert res.exit_code == 2 and "other settings" in res.output and "epochs" in res.output


def test_bad_inputs_fail_early_with_the_file_named(sets, tmp_path):
    res = _run(sets, tmp_path / "a", "--weights", str(tmp_path / "none.pt"))
    assert res.exit_code == 2 and "none.pt" in res.output and "downloaded" in res.output

    unlabelled = tmp_path / "unlabelled"
    shutil.copytree(sets / "test" / "polar", unlabelled)
    shutil.rmtree(unlabelled / "labels")
    res = CliRunner().invoke(app, ["eval-detection", "--real-train", str(sets / "train" / "polar"), "--real-test",
                                   str(unlabelled), "--synthetic", str(sets / "syn"), "--out", str(tmp_path / "b")])
    assert res.exit_code == 2 and "unlabelled" in res.output and "no labels" in res.output

    res = _run(sets, tmp_path / "c", "--rgb-train", str(sets / "train" / "rgb"))
    assert res.exit_code == 2 and "--rgb-test" in res.output


def test_weather_subsets_cover_each_weather_with_enough_frames(sets, tmp_path, monkeypatch):
    root = datasets.export_polar(sets / "test" / "polar", tmp_path / "t", "stokes")
    weather = json.loads((root / "weather.json").read_text())
    monkeypatch.setattr(datasets, "MIN_WEATHER_FRAMES", 1)
    subsets = datasets.weather_yamls(root)
    assert set(subsets) == set(weather.values())
    for w, y in subsets.items():
        listed = Path(yaml.safe_load(y.read_text())["val"]).read_text().split()
        assert listed and all(weather[p.rsplit("/", 1)[1][:-4]] == w for p in listed)
    monkeypatch.setattr(datasets, "MIN_WEATHER_FRAMES", 5)
    assert datasets.weather_yamls(root) == {}  # 4 frames: no weather has enough


def test_a_changed_input_at_the_same_path_is_refused(sets, tmp_path):
    import os

    syn = tmp_path / "syn"
    shutil.copytree(sets / "syn", syn)
    args = ["eval-detection", "--real-train", str(sets / "train" / "polar"), "--real-test",
            str(sets / "test" / "polar"), "--synthetic", str(syn), "--out", str(tmp_path / "o"), "--seeds", "1",
            "--epochs", "1", "--imgsz", "64"]
    assert CliRunner().invoke(app, args).exit_code == 0
    img = next((syn / "images").rglob("*.png"))
    os.utime(img, ns=(img.stat().st_atime_ns, img.stat().st_mtime_ns + 10**9))  # e.g. re-translated
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "synthetic" in res.output and "other settings" in res.output


def test_equal_steps_control_repeats_real_images_to_the_mixed_size(sets, tmp_path):
    real = datasets.export_polar(sets / "train" / "polar", tmp_path / "r", "stokes")
    syn = datasets.export_polar(sets / "syn", tmp_path / "s", "stokes")
    mixed = yaml.safe_load(datasets.mixed_yaml(real, syn, 0.5, seed=0).read_text())
    repeated = yaml.safe_load(datasets.repeated_yaml(real, syn, 0.5).read_text())
    mixed_list = Path(mixed["train"]).read_text().split()
    repeated_list = Path(repeated["train"]).read_text().split()
    assert len(mixed_list) == len(repeated_list) == 6  # 4 real + 2 synthetic
    assert all("/r/" in p for p in repeated_list) and sum("/s/" in p for p in mixed_list) == 2


def test_detection_settings_are_keyword_only_and_check_their_values(tmp_path):
    from polaraug.detect.evaluation import DetectionSettings
    from polaraug.errors import ConfigError, InputError

    with pytest.raises(TypeError):
        DetectionSettings("intensities", "mix")  # positional settings are refused
    s = DetectionSettings(encoding="stokes", seeds=(0,), epochs=1)
    assert s.to_dict()["seeds"] == [0] and s.protocol == "mix" and s.imgsz == 160
    with pytest.raises(ConfigError, match="protocol"):
        DetectionSettings(protocol="both")
    with pytest.raises(ConfigError, match="seed"):
        DetectionSettings(seeds=())
    with pytest.raises(InputError, match="none.pt: no such weights file"):
        DetectionSettings(weights=str(tmp_path / "none.pt"))
