"""Benchmark scripts run at their --quick size, so that an API change that breaks one fails the suite."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str):
    """``benchmarks/NAME.py`` imported as a module (its functions, without running ``main``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while they are made
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def test_translator_curve_quick(tmp_path):
    out = tmp_path / "curve.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "translator_curve.py"), "--quick",
                          "--arms", "fresh-context", "--data", str(tmp_path / "data"), "--runs", str(tmp_path / "runs"),
                          "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    runs = json.loads(out.read_text())["runs"]
    assert [r["arm"] for r in runs] == ["fresh-context"]
    assert [p["steps"] for p in runs[0]["points"]] == [2, 4]
    assert all(math.isfinite(p["scores"]["aolp_error_deg"]) and 0 <= p["scores"]["dolp_mae"] <= 1
               for p in runs[0]["points"])
    last = runs[0]["points"][-1]["scores"]  # per channel PSNR and per surface DoLP, for the targets
    assert set(last["psnr"]) == {"I0", "I45", "I90", "I135"}
    assert set(last["surfaces_dolp_mae"]) == set(last["surfaces_aolp_deg"]) and last["surfaces_dolp_mae"]
    assert set(last["surfaces_dolp_bias"]) == set(last["surfaces_dolp_mae"])
    # |mean error| <= mean |error|, up to the float32 rounding of each pixel's difference
    assert all(abs(b) <= last["surfaces_dolp_mae"][k] + 1e-6 for k, b in last["surfaces_dolp_bias"].items())
    assert "| fresh-context | 4 |" in res.stdout
    # a larger --steps resumes the finished run: only its new checkpoints are scored, on the run's clock
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "translator_curve.py"), "--quick", "--steps", "6",
                          "--arms", "fresh-context", "--data", str(tmp_path / "data"), "--runs", str(tmp_path / "runs"),
                          "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    points = json.loads(out.read_text())["runs"][0]["points"]
    assert [p["steps"] for p in points] == [2, 4, 6]
    assert points[2]["minutes"] > points[1]["minutes"] and points[2]["scores"] != points[1]["scores"]


def test_translate_benchmark_quick():
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "translate.py"), "--quick"], capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "translate / bare forward:" in res.stdout and "4 frames 64x48" in res.stdout
    from polaraug.translate.backends import onnxruntime_installed

    if onnxruntime_installed():
        assert "onnxruntime / torch end to end:" in res.stdout and "backends: 2 frames 64x48" in res.stdout
    else:
        assert "comparison skipped" in res.stdout


def test_fuzz_benchmark_quick(tmp_path):
    out = tmp_path / "fuzz.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fuzz.py"), "--quick", "--json", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    summary = json.loads(out.read_text())
    assert summary["inputs"] == sum(t["inputs"] for t in summary["targets"].values()) > 0
    assert all(t["outcomes"]["traceback"] == 0 for t in summary["targets"].values())
    assert "unacceptable outcomes: 0" in res.stdout and "image tiff" in res.stdout


def test_validate_and_augment_benchmarks_quick():
    for script, expect in (("validate.py", "validate / decode-only throughput:"), ("augment.py", "worst ratio")):
        res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick"], capture_output=True,
                             text=True, timeout=600)
        assert res.returncode == 0, (script, res.stderr[-2000:])
        assert expect in res.stdout, script


def test_realism_benchmark_quick(tmp_path):
    out = tmp_path / "realism.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "realism.py"), "--quick", "--json", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    runs = json.loads(out.read_text())["sets"]["default-domain"]
    assert [r["seed"] for r in runs] == [0] and 0.0 <= runs[0]["auc"] <= 1.0
    assert "| default-domain |" in res.stdout


def test_grey_detector_benchmark_quick(tmp_path):
    out = tmp_path / "grey.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "grey_detector.py"), "--quick", "--json", str(out)],
                         capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-2000:]
    largest = float(res.stdout.split("largest DoLP of a test frame ")[1].split()[0])
    assert largest < 0.01  # the grey copies carry no polarization (quantisation aside)
    oracle = json.loads(out.read_text())["comparisons"]["quick"]["real+oracle"]
    assert len(oracle["grey"]) == len(oracle["polarized"]) == 1 and "low" in oracle["bootstrap"]


def test_checkerboard_benchmark_quick(tmp_path):
    out = tmp_path / "cb.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "checkerboard.py"), "--quick", "--json", str(out),
                          "--figure", str(tmp_path / "cb.png"), "--spin", "1", "4",
                          "--maps", str(tmp_path / "maps.png")],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    spectra = json.loads(out.read_text())["spectra"]
    assert set(spectra) == {"truth", "default (built-in), spin 1", "default (built-in), spin 4"}
    assert (tmp_path / "cb.png").is_file() and (tmp_path / "maps.png").is_file()
    assert all(v == 1.0 for v in spectra["truth"]["peaks_over_truth"].values())
    assert len(spectra["default (built-in), spin 1"]["peaks"]) == 4
    assert all("grid_rms_dolp" in s for s in spectra.values())
    assert spectra["truth"]["detail"] == 1.0 and set(spectra["truth"]["power_over_truth"].values()) == {1.0}
    assert spectra["truth"]["fine_error"] == 0.0 and spectra["default (built-in), spin 1"]["fine_error"] > 0
    assert len(spectra["default (built-in), spin 1"]["error_by_band"]) == 5
    assert set(spectra["default (built-in), spin 1"]["stokes_error_by_band"]) == {"s0", "s1", "s2"}


def test_detail_is_the_power_a_blur_removes():
    import cv2

    cb = _script("checkerboard")
    rng = np.random.default_rng(0)
    sharp = [rng.uniform(0, 0.5, (64, 64)) for _ in range(8)]
    blurred = [cv2.GaussianBlur(m, (0, 0), 1.5) for m in sharp]
    truth = cb.mean_spectrum(sharp)
    assert abs(cb.detail(cb.mean_spectrum(sharp), truth) - 1.0) < 1e-9
    assert cb.detail(cb.mean_spectrum(blurred), truth) < 0.1  # a 1.5 px blur keeps little above 0.1 cycles/px
    striped = [m + np.array([0.05, -0.05] * 32)[:, None] for m in blurred]  # a period-2 row pattern
    assert cb.power_over_truth(cb.mean_spectrum(striped), truth)["vertical 0.5"] > 10
    assert cb.fine_error(sharp, sharp) == 0.0
    assert 0.8 < cb.fine_error(blurred, sharp) < 1.0  # a blur gets almost none of the fine detail right
    wrong = [cv2.GaussianBlur(m, (0, 0), 1.5) + rng.uniform(0, 0.5, m.shape) for m in sharp]  # detail, elsewhere
    assert cb.fine_error(wrong, sharp) > 1.5


def test_grid_rms_measures_a_pattern_locked_to_the_pixel_grid_and_not_content():
    cb = _script("checkerboard")
    rng = np.random.default_rng(0)
    content = [rng.uniform(0, 0.5, (48, 64)) for _ in range(64)]  # a phase's mean: std 0.144 / sqrt(12288)
    rows = np.array([0.01, -0.01] * 24)[:, None]  # alternate rows +-0.01 DoLP: rms 0.01
    assert cb.grid_rms(content) < 0.002
    assert abs(cb.grid_rms([m + rows for m in content]) - 0.01) < 0.002


def test_checkpoint_choice_judges_any_seed_apart_from_the_validation_seed():
    from polaraug.errors import ConfigError

    cc = _script("checkpoint_choice")
    for seed in (0, 1, 2, 4, 5):  # 4 against validation seed 3 once collided with a filler seed (3 + 1)
        cc.check_judgeable(seed, 3)
    with pytest.raises(ConfigError):
        cc.check_judgeable(3, 3)  # a run trained on the validation renders cannot be judged on them


def _quick(script: str, *args: str, timeout: int = 600) -> str:
    """Run ``benchmarks/SCRIPT --quick ARGS`` from a neutral folder; its stdout (the run must succeed)."""
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick", *args], capture_output=True,
                         text=True, timeout=timeout, cwd=ROOT / "tests")
    assert res.returncode == 0, (script, res.stdout[-1000:], res.stderr[-2000:])
    return res.stdout


def test_output_size_benchmark_quick(tmp_path):
    out = _quick("output_size.py", "--json", str(tmp_path / "sizes.json"))
    sizes = json.loads((tmp_path / "sizes.json").read_text())
    assert all(r["lossless"] for by in sizes["sizes"].values() for r in by.values())
    png = sizes["sizes"]["png"]
    assert sum(png["8"]["mb"]) < sum(png["12"]["mb"]) < sum(png["16"]["mb"])  # zero low bits compress
    assert sizes["default"]["bits"] == 8 and set(sizes["default"]["sbit"]) == {8}
    assert "| tiff-lzma | 12 |" in out and "polaraug translate, defaults: 8-bit PNGs" in out


def test_ingest_benchmark_quick():
    out = _quick("ingest.py")
    assert "labels: 200 frames" in out and "synth paired 128x72" in out and "image stream-read 128x72" in out


def test_train_step_benchmark_quick():
    out = _quick("train_step.py")
    assert "CPU, 32px, ngf 8, 1 blocks" in out and "paired stokes" in out and "cyclegan none/stokes" in out


def test_physics_benchmark_quick():
    pytest.importorskip("polanalyser")  # the 'bench' extra
    out = _quick("physics.py")
    assert "frame 96x64" in out and "results agree to 1e-5 relative: yes" in out


def test_ablation_benchmark_quick(tmp_path):
    out = _quick("ablation.py", "--out", str(tmp_path))
    rows = json.loads((tmp_path / "ablation.json").read_text())
    assert [r["mode"] for r in rows] == ["none", "relax", "project", "proximal"] and "| project |" in out


def test_translator_ablation_benchmark_quick(tmp_path):
    out = _quick("translator_ablation.py", "--out", str(tmp_path / "t.json"), "--data", str(tmp_path / "data"),
                 "--runs", str(tmp_path / "runs"))
    runs = json.loads((tmp_path / "t.json").read_text())["runs"]
    assert sorted(r["arm"] for r in runs) == ["cyclegan-project", "paired-stokes"]
    assert (tmp_path / "runs" / "paired-stokes_s0" / "train" / "checkpoints" / "last.pt").is_file()
    assert "| paired-stokes |" in out


def test_detection_experiment_benchmark_quick(tmp_path):
    out = _quick("detection_experiment.py", "--data", str(tmp_path / "data"), "--figures", str(tmp_path / "fig"))
    results = json.loads((tmp_path / "fig" / "detection_experiment.json").read_text())
    assert results["benchmark"]["frame_size"] == "64x48" and "real+paired" in out
    assert (tmp_path / "data" / "syn_paired" / "manifest.json").is_file()


def test_ood_separation_benchmark_quick():
    out = _quick("ood_separation.py")
    assert '"exported"' in out and '"oracle"' in out


def test_gpu_check_benchmark_quick_on_the_cpu():
    out = _quick("gpu_check.py", "--device", "cpu", timeout=900)
    assert "frames/s" in out


def test_on_the_fly_benchmark_quick():
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "on_the_fly.py"), "--quick"], capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "2 RGB frames 96x64, detector imgsz 64" in res.stdout and "storing wins after" in res.stdout
    rate, cpu = res.stdout.split("on the fly, cpu, torch, 64 px")[1].split()[0:4:2]
    assert float(rate) > 0 and float(cpu) > 0
    assert "in CPU seconds:" in res.stdout


def test_soak_benchmark_quick(tmp_path):
    out = tmp_path / "soak.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "soak.py"), "--quick", "--json", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["translate"]["frames"] == 12 and result["validate"]["frames"] == 24
    assert [s["done"] for s in result["validate"]["pass_ends"]] == [12, 24]
    samples = result["samples"]
    assert {"translate", "validate 1", "validate 2"} <= {s["phase"] for s in samples}
    assert all(s["rss_kb"] > 0 and s["fds"] > 0 for s in samples)
    warm, end = result["translate"]["warmup"], result["translate"]["end"]
    assert result["translate"]["rss_growth_pct"] == round(100 * (end["rss_kb"] - warm["rss_kb"]) / warm["rss_kb"], 2)
    assert "translate: RSS" in res.stdout and "largest growth after warm-up" in res.stdout


def test_seed_selection_quick(tmp_path):
    out = tmp_path / "selection.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "seed_selection.py"), "--quick", "--json",
                          str(out)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    arm = json.loads(out.read_text())["arms"]["fresh-plain"]
    scores = {s: r["validation"]["aolp_error_deg"] for s, r in arm["seeds"].items()}
    assert set(scores) == {"0", "1"} and arm["chosen"] == int(min(scores, key=scores.get))
    assert arm["best_on_test"] is None  # no curve file given: no test scores to compare with
    assert "validation chooses seed" in res.stdout


def test_checkpoint_choice_quick(tmp_path):
    out = tmp_path / "choice.json"
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "checkpoint_choice.py"), "--quick", "--json",
                          str(out)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    run = json.loads(out.read_text())["runs"]["fresh-plain:0"]
    scores = {int(k): c["validation"]["aolp_error_deg"] for k, c in run["checkpoints"].items()}
    assert set(scores) == {1, 2} and run["chosen"] == min(scores, key=scores.get)
    assert all(c["test"] is None for c in run["checkpoints"].values())  # no curve file: no test scores
    assert f"validation chooses step {run['chosen']}" in res.stdout


def test_averaging_benchmark_quick(tmp_path):
    out = _quick("averaging.py", "--json", str(tmp_path / "avg.json"))
    rows = json.loads((tmp_path / "avg.json").read_text())["rows"]
    assert [r["passes"] for r in rows] == [1, 4, 2, 16, 32] and rows[0]["ratio"] == 1.0
    assert "spin 4 and mirror" in out


def _scores(folder: Path, arm: str, seed: int, hits: int) -> None:
    """A fabricated score of ``arm``: 40 test images with one car each, ``hits`` of them found."""
    from polaraug.detect.imagestats import ImageStats

    records = [{"name": f"im{i}", "tp": np.full((1, 10), i < hits), "conf": [0.9], "pred_cls": [0],
                "target_cls": [0]} for i in range(40)]
    stats = ImageStats.from_records(records)
    folder.mkdir(parents=True, exist_ok=True)
    stats.save(folder / f"{arm}_s{seed}.npz")
    (folder / f"{arm}_s{seed}.json").write_text(json.dumps({"map50": hits / 40}))


def test_usefulness_rerun_finds_a_rerun_outside_the_test_image_interval(tmp_path):
    ur = _script("usefulness_rerun")
    # the same experiment twice: the twins' polarization costs 6-10 hits in the first run, gains 6-10 in the second
    for run, sign in (("a", -1), ("b", 1)):
        for seed, delta in enumerate((6, 8, 10)):
            _scores(tmp_path / run, "real", seed, 8)
            _scores(tmp_path / run, "real_oracle-unpolarized", seed, 24)
            _scores(tmp_path / run, "real_oracle", seed, 24 + sign * delta)
    result = ur.compare_runs(tmp_path / "a", tmp_path / "b", ["real", "real_oracle", "real_oracle-unpolarized"],
                             n_boot=200)
    assert result["seeds"] == [0, 1, 2] and abs(result["arms"]["real"]["mean_first"] - 0.2) < 1e-9
    runs = result["controls"]["real_oracle"]
    assert abs(runs["first"]["seeds"]["mean"] + 0.2) < 1e-9 and abs(runs["second"]["seeds"]["mean"] - 0.2) < 1e-9
    assert runs["first"]["test_images"]["high"] < 0 < runs["second"]["test_images"]["low"]
    assert runs["first"]["other_run_inside"]["test_images"] is False
    assert abs(runs["pooled"]["seeds"]["mean"]) < 1e-9 and runs["pooled"]["seeds"]["n"] == 6
    with pytest.raises(ValueError, match="the runs must share them"):
        ur.compare_runs(tmp_path / "a", tmp_path / "b", ["real", "missing"])


def test_translator_curve_has_no_clock_for_checkpoints_a_stopped_process_left(tmp_path):
    import os

    curve = _script("translator_curve")
    ckpts = tmp_path / "checkpoints"
    ckpts.mkdir()
    for step, mtime in ((1000, 100.0), (2000, 700.0), (3000, 1300.0)):
        (ckpts / f"step_{step:07d}.pt").touch()
        os.utime(ckpts / f"step_{step:07d}.pt", (mtime, mtime))
    kept, minutes = curve.new_checkpoints(tmp_path, {"steps": 1000, "minutes": 10.0}, started=100.0)
    assert [k for k, _ in kept] == [2000, 3000] and minutes == pytest.approx([20.0, 30.0])  # the clock goes on
    kept, minutes = curve.new_checkpoints(tmp_path, {"steps": 1000, "minutes": 10.0}, started=1000.0)
    assert [k for k, _ in kept] == [2000, 3000] and minutes == [None, None]  # step 2000 predates this process
    assert curve.new_checkpoints(tmp_path, None, started=0.0)[1] == pytest.approx([100 / 60, 700 / 60, 1300 / 60])


def test_polarization_seeds_running_interval_narrows_with_seeds():
    ps = _script("polarization_seeds")
    diffs = [0.01, -0.02, 0.03, 0.0, 0.02, -0.01, 0.015, 0.005]
    run = ps.running(diffs)
    assert len(run) == len(diffs) and run[0]["low"] is None  # one seed has no interval
    assert [r["mean"] for r in run] == pytest.approx([sum(diffs[:k]) / k for k in range(1, 9)])
    assert run[-1]["high"] - run[-1]["low"] < run[2]["high"] - run[2]["low"]
