"""eval-detection on tiny generated sets: every arm's listing, the controls' data, the statistics on known
inputs, and end-to-end runs at 1 seed, 1 epoch, 64 px (plumbing, not AP)."""

import json
import math
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.detect import datasets
from polaraug.detect.arms import ExperimentInputs, plan_arms
from polaraug.detect.evaluation import DetectionSettings
from polaraug.errors import ConfigError, InputError
from polaraug.io.images import read_image
from polaraug.synth.generate import SynthConfig, generate

T_975_DF2 = 4.302652729911275  # Student-t 97.5 % quantile, 2 degrees of freedom (statistical tables)


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """train/test: paired (rgb + polar); syn: stands in for a translation (polar, seed 3); oracle: its twins
    (same seed, so the same frame names); oracle3: twins of only 3 of the 4 frames."""
    root = tmp_path_factory.mktemp("ed")
    specs = {"train": (1, "paired", 4), "test": (2, "paired", 4), "syn": (3, "polar", 4), "oracle": (3, "polar", 4),
             "oracle3": (3, "polar", 3)}
    for name, (seed, mode, n) in specs.items():
        generate(SynthConfig(n=n, width=96, height=64, seed=seed, mode=mode, val_fraction=0.0), root / name,
                 workers=1, progress=False)
    return root


def _inputs(sets, **kw) -> ExperimentInputs:
    return ExperimentInputs(sets / "train" / "polar", sets / "test" / "polar", **kw)


def _run(sets, out, *extra):
    return CliRunner().invoke(app, ["eval-detection", "--real-train", str(sets / "train" / "polar"), "--real-test",
                                    str(sets / "test" / "polar"), "--synthetic", f"syn={sets / 'syn'}", "--out",
                                    str(out), "--seeds", "1", "--epochs", "1", "--imgsz", "64", "--batch", "4",
                                    *extra])


# --- what every arm trains on ----------------------------------------------------------------------------------

def test_equal_steps_give_every_arm_the_largest_listing_and_real_only_real_frames(sets, tmp_path):
    inputs = _inputs(sets, synthetic={"syn": sets / "syn"}, oracle=sets / "oracle", controls=("syn",))
    plan = plan_arms(inputs, tmp_path, DetectionSettings(ratios=(0.5, 1.0), seeds=(0,)))
    names = [a.name for a in plan.arms]
    assert names == ["real", "real+syn@0.5", "real+oracle@0.5", "real+syn-unpolarized@0.5", "real+syn@1",
                     "real+oracle@1", "real+syn-unpolarized@1"]
    real = set(datasets.images(plan.real))
    assert plan.size == 4 + 4  # 4 real + 1.0 x 4 extra, the largest arm
    for arm in plan.arms:
        listing = plan.listing(arm, seed=0)
        assert len(listing) == 8, arm.name
        extra = [p for p in listing if p not in real]
        k = {None: 0, 0.5: 2, 1.0: 4}[arm.ratio]
        assert len(set(extra)) == k, arm.name  # k distinct extra frames ...
        counts = Counter(listing)  # ... and every frame repeated evenly (within one) to fill the 8 slots
        assert max(counts.values()) - min(counts.values()) <= 1, arm.name
    assert all(p in real for p in plan.listing(plan.arms[0], seed=0))

    epochs = plan_arms(inputs, tmp_path, DetectionSettings(ratios=(0.5, 1.0), seeds=(0,), budget="equal-epochs"))
    assert [epochs.images_per_epoch(a) for a in epochs.arms] == [4, 6, 6, 6, 8, 8, 8]


def test_oracle_and_control_add_the_same_scenes_as_their_synthetic_arm(sets, tmp_path):
    inputs = _inputs(sets, synthetic={"syn": sets / "syn"}, oracle=sets / "oracle", controls=("syn",))
    plan = plan_arms(inputs, tmp_path, DetectionSettings(ratios=(0.5,), seeds=(0,)))
    syn, oracle, control = plan.arms[1:4]
    for seed in (0, 1, 2):
        stems = [p.stem for p in plan.extra(syn, seed)]
        assert [p.stem for p in plan.extra(oracle, seed)] == stems
        assert [p.stem for p in plan.extra(control, seed)] == stems
        assert all("/oracle/" in str(p) for p in plan.extra(oracle, seed))
        assert all("/unpolarized_syn/" in str(p) for p in plan.extra(control, seed))
    assert {p.stem for s in range(6) for p in plan.extra(syn, s)} == set(plan.names["syn"])  # seeds vary it


def test_unpolarized_frames_have_dolp_zero_and_the_same_s0(sets, tmp_path):
    plain = datasets.export_polar(sets / "syn", tmp_path / "p", "intensities")
    flat = datasets.export_polar(sets / "syn", tmp_path / "u", "intensities", depolarized=True)
    for a, b in zip(datasets.images(plain), datasets.images(flat), strict=True):
        y, u = read_image(a).astype(np.float64), read_image(b).astype(np.float64)  # 8-bit, ideal camera
        assert np.abs(u - u.mean(axis=2, keepdims=True)).max() <= 1  # I0 = I45 = I90 = I135 (1 LSB)
        s1, s2 = u[..., 0] - u[..., 2], u[..., 1] - u[..., 3]
        assert np.hypot(s1, s2).max() <= 1.5  # DoLP 0 to quantisation
        s0_plain, s0_flat = (y[..., 0] + y[..., 2] + y[..., 1] + y[..., 3]) / 2, u.sum(axis=2) / 2
        assert np.abs(s0_plain - s0_flat).max() <= 2
        assert np.hypot(y[..., 0] - y[..., 2], y[..., 1] - y[..., 3]).max() > 5  # the original was polarized


def test_a_missing_oracle_twin_is_refused_with_the_first_missing_frame(sets):
    with pytest.raises(InputError, match=r"no oracle twin for frame 'synth-0003-000003' of added set syn"):
        _inputs(sets, synthetic={"syn": sets / "syn"}, oracle=sets / "oracle3").check()
    with pytest.raises(ConfigError, match="control 'other' names no synthetic set"):
        _inputs(sets, synthetic={"syn": sets / "syn"}, controls=("other",)).check()
    with pytest.raises(ConfigError, match="added set name"):
        _inputs(sets, synthetic={"oracle": sets / "syn"}).check()


def test_class_selection_labels_only_the_chosen_classes(sets, tmp_path):
    root = datasets.export_polar(sets / "test" / "polar", tmp_path / "t", "stokes", classes=("car", "bus"))
    ids = {int(line.split()[0]) for f in (root / "labels").rglob("*.txt") for line in f.read_text().splitlines()}
    assert ids and ids <= {2, 4}  # car, bus
    with pytest.raises(ConfigError, match="unknown classes"):
        DetectionSettings(classes=("car", "lorry"))


def test_weather_and_condition_groups_cover_the_test_frames_with_enough_frames(sets, tmp_path, monkeypatch):
    root = datasets.export_polar(sets / "test" / "polar", tmp_path / "t", "stokes")
    weather = json.loads((root / "weather.json").read_text())
    conditions = json.loads((root / "conditions.json").read_text())
    assert set(conditions) == set(weather)
    assert all(c == "night" or c == weather[s] for s, c in conditions.items())  # night, else the weather
    monkeypatch.setattr(datasets, "MIN_WEATHER_FRAMES", 1)
    for key, label in (("weather", weather), ("conditions", conditions)):
        found = datasets.groups(root, key)
        assert set(found) == set(label.values())
        assert sorted(s for stems in found.values() for s in stems) == sorted(label)
        assert all(label[s] == g for g, stems in found.items() for s in stems)
    monkeypatch.setattr(datasets, "MIN_WEATHER_FRAMES", 5)
    assert datasets.groups(root, "weather") == {}  # 4 frames: no weather has enough


def test_each_seed_draws_its_own_nested_real_subsets(sets, tmp_path):
    inputs = _inputs(sets, synthetic={"syn": sets / "syn"})
    small = plan_arms(inputs, tmp_path, DetectionSettings(ratios=(1.0,), seeds=(0,), real_size=2))
    large = plan_arms(inputs, tmp_path, DetectionSettings(ratios=(1.0,), seeds=(0,), real_size=3))
    real = set(datasets.images(small.real))
    draws = [small.real_frames(s) for s in range(6)]
    assert all(len(d) == 2 and set(d) <= real for d in draws) and len({tuple(d) for d in draws}) > 1
    for s in range(6):
        assert set(small.real_frames(s)) <= set(large.real_frames(s))  # a seed's curve adds frames
        for arm in small.arms:  # every arm of a seed trains on that seed's real frames only
            listing = small.listing(arm, s)
            assert len(listing) == small.size == 4 and {p for p in listing if p in real} == set(draws[s])
    with pytest.raises(InputError, match="fewer than the 9 real frames"):
        plan_arms(inputs, tmp_path, DetectionSettings(seeds=(0,), real_size=9))


# --- statistics ----------------------------------------------------------------------------------------------------

def test_paired_interval_matches_the_hand_computed_student_t_interval():
    from polaraug.detect.stats import gap_closed, paired_difference, verdict

    d = paired_difference([0.1, 0.2, 0.3], [0.2, 0.4, 0.5])
    diffs = [0.1, 0.2, 0.2]
    mean, sd = sum(diffs) / 3, math.sqrt(sum((x - sum(diffs) / 3) ** 2 for x in diffs) / 2)
    half = T_975_DF2 * sd / math.sqrt(3)
    assert d["mean"] == pytest.approx(mean) and d["n"] == 3
    assert d["low"] == pytest.approx(mean - half) and d["high"] == pytest.approx(mean + half)
    assert verdict(d) == "better"
    assert verdict(paired_difference([0.3, 0.2, 0.1], [0.2, 0.4, 0.0])) == "no detectable difference"
    assert verdict(paired_difference([0.5, 0.6, 0.7], [0.1, 0.15, 0.3])) == "worse"
    assert paired_difference([0.1], [0.3])["low"] is None
    with pytest.raises(ValueError, match="paired"):
        paired_difference([0.1, 0.2], [0.3])
    oracle = paired_difference([0.1, 0.2, 0.3], [0.3, 0.4, 0.55])
    assert gap_closed(d, oracle) == pytest.approx(d["mean"] / oracle["mean"])
    assert gap_closed(d, paired_difference([0.1, 0.2, 0.3], [0.3, 0.1, 0.35])) is None  # oracle unresolved


def _results(real: list[float], arm: list[float]) -> dict:
    from polaraug.detect.arms import Arm, TrainingPlan
    from polaraug.detect.evaluation import Score, _results

    arms = [Arm("real", "real"), Arm("real+syn", "synthetic", "syn", 1.0)]
    plan = TrainingPlan(arms, Path("r"), {}, {}, [], False, None, {})
    plan.images_per_epoch = lambda arm: 8
    scores = {"real": [Score(v, v / 2, {"car": v}, {"clear": v}) for v in real],
              "real+syn": [Score(v, v / 2, {"car": v}, {"clear": v}) for v in arm]}
    return _results(plan, scores, DetectionSettings(seeds=tuple(range(len(real)))),
                    _inputs(Path("/x"), synthetic={"syn": Path("/x/syn")}))


def test_gap_closed_is_measured_against_the_oracle_of_the_same_ratio():
    from polaraug.detect.arms import Arm, TrainingPlan
    from polaraug.detect.evaluation import Score, _results

    arms = [Arm("real", "real"), Arm("real+syn@1", "synthetic", "syn", 1.0),
            Arm("real+oracle@1", "oracle", "oracle", 1.0), Arm("real+syn@4", "synthetic", "syn", 4.0),
            Arm("real+oracle@4", "oracle", "oracle", 4.0)]
    plan = TrainingPlan(arms, Path("r"), {}, {}, [], False, None, {})
    plan.images_per_epoch = lambda arm: 8
    base = [0.10, 0.12, 0.14]
    gains = {"real": 0.0, "real+syn@1": 0.01, "real+oracle@1": 0.02, "real+syn@4": 0.08, "real+oracle@4": 0.10}
    jitter = [0.0, 0.002, -0.001]
    scores = {n: [Score(b + g + (j if g else 0), 0.0, {}) for b, j in zip(base, jitter, strict=True)]
              for n, g in gains.items()}
    res = _results(plan, scores, DetectionSettings(seeds=(0, 1, 2)), _inputs(Path("/x")))
    assert res["arms"]["real+syn@4"]["gap_closed"] == pytest.approx(0.8, abs=0.02)  # 0.08 / 0.10, not / 0.02
    assert res["arms"]["real+syn@1"]["gap_closed"] == pytest.approx(0.5, abs=0.05)


def test_a_control_comparison_is_the_arm_minus_its_unpolarized_control():
    from polaraug.detect.arms import Arm, TrainingPlan
    from polaraug.detect.evaluation import Score, _results
    from polaraug.detect.report import summary_lines

    arms = [Arm("real", "real"), Arm("real+syn", "synthetic", "syn", 1.0),
            Arm("real+syn-unpolarized", "unpolarized", "syn-unpolarized", 1.0, control_of="real+syn")]
    plan = TrainingPlan(arms, Path("r"), {}, {}, [], False, None, {})
    plan.images_per_epoch = lambda arm: 8
    values = {"real": [0.2, 0.22, 0.24], "real+syn": [0.25, 0.28, 0.29], "real+syn-unpolarized": [0.2, 0.22, 0.25]}
    scores = {n: [Score(v, 0.0, {}) for v in vs] for n, vs in values.items()}
    res = _results(plan, scores, DetectionSettings(seeds=(0, 1, 2)), _inputs(Path("/x")))
    assert res["controls"]["real+syn-unpolarized"]["map50"]["mean"] == pytest.approx(0.05)  # syn − unpolarized
    assert any("real+syn − its control real+syn-unpolarized (mAP50): +0.050" in line for line in summary_lines(res))


def test_arms_named_twice_are_refused_before_any_work(sets, tmp_path):
    res = _run(sets, tmp_path / "o", "--ratio", "1", "--ratio", "1")
    assert res.exit_code == 2 and "arms named twice" in res.output and not (tmp_path / "o" / "settings.json").exists()
    res = _run(sets, tmp_path / "p", "--control", "syn", "--control", "syn")
    assert res.exit_code == 2 and "arms named twice" in res.output


def test_console_never_prints_a_relative_gain_over_a_weak_baseline(tmp_path):
    from polaraug.detect.report import summary_lines, write_report

    weak = "\n".join(summary_lines(_results([0.002, 0.001, 0.003], [0.03, 0.02, 0.04])))
    assert "%" not in weak.replace("95 %", "") and "too weak" in weak and "+0.028" in weak
    strong = "\n".join(summary_lines(_results([0.20, 0.22, 0.24], [0.24, 0.25, 0.29])))
    assert "+18.2 %" in strong and "better" in strong  # (0.26 - 0.22) / 0.22

    results = _results([0.20, 0.22, 0.24], [0.24, 0.25, 0.29])
    report = write_report(results, tmp_path).read_text()
    assert "| real+syn | 8 | 0.260 ± 0.026 |" in report and "+0.040 [" in report
    assert "| mAP50 per weather − real | clear |" in report and "| AP50 per class − real | car |" in report
    assert (tmp_path / "report_map50.png").is_file() and (tmp_path / "report_weather.png").is_file()


# --- end to end --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("encoding", "protocol"), [("intensities", "mix"), ("stokes", "pretrain-finetune"),
                                                    ("i0-i45-i90", "mix"), ("hsv", "pretrain-finetune")])
def test_eval_detection_runs_every_encoding_and_protocol(sets, tmp_path, encoding, protocol):
    res = _run(sets, tmp_path, "--protocol", protocol, "--encoding", encoding, "--control", "none")
    assert res.exit_code == 0, res.output
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["arms"]) == {"real", "real+syn"}
    assert results["settings"]["protocol"] == protocol and results["settings"]["encoding"] == encoding
    assert any("PolarRandomFlip" in line for line in results["augmentation"])
    for arm in results["arms"].values():
        assert 0 <= arm["map50"]["mean"] <= 1 and len(arm["map50"]["runs"]) == 1
        assert arm["images_per_epoch"] == 8
    assert results["arms"]["real+syn"]["vs_real"]["map50"]["n"] == 1
    channels = 4 if encoding == "intensities" else 3
    assert f"channels: {channels}" in (tmp_path / "datasets" / "synthetic_syn" / "data.yaml").read_text()
    assert "| real+syn |" in res.output and "one seed" in res.output
    assert results["val_curves"]["real"] == [[]]  # no validation split: no curve, and the report says so
    assert "No validation split" in (tmp_path / "report.md").read_text()


def test_every_arm_with_validation_runs_and_reports(sets, tmp_path):
    res = _run(sets, tmp_path, "--oracle", str(sets / "oracle"), "--real-val", str(sets / "test" / "polar"),
               "--rgb-train", str(sets / "train" / "rgb"), "--rgb-test", str(sets / "test" / "rgb"))
    assert res.exit_code == 0, res.output
    results = json.loads((tmp_path / "results.json").read_text())
    assert list(results["arms"]) == ["real", "real+syn", "real+oracle", "real+syn-unpolarized", "rgb"]
    assert set(results["controls"]) == {"real+syn-unpolarized"}
    assert results["controls"]["real+syn-unpolarized"]["of"] == "real+syn"
    assert "vs_real" not in results["arms"]["rgb"]  # scored on its own test set: not compared with real
    # one validation pass per model keeps per-image records: the scores recomputed from them, and intervals
    # over test images for every comparison with real and every control
    from polaraug.detect.imagestats import ImageStats, map_scores

    records = ImageStats.load(tmp_path / "scores" / "real_syn_s0.npz")
    assert len(records.names) == 4
    assert map_scores(records)["map50"] == pytest.approx(results["arms"]["real+syn"]["map50"]["mean"], abs=1e-9)
    for boot in (results["arms"]["real+oracle"]["vs_real"]["bootstrap"],
                 results["controls"]["real+syn-unpolarized"]["bootstrap"]):
        assert boot["map50"]["images"] == 4 and boot["map50"]["low"] <= boot["map50"]["high"]
    assert all(len(c) == 1 and len(c[0]) == 1 for n, c in results["val_curves"].items() if n != "rgb")
    report = (tmp_path / "report.md").read_text()
    assert "Plateau" in report and "report_curves.png" in report and (tmp_path / "report_curves.png").is_file()
    assert "channels: 3" in (tmp_path / "datasets" / "rgb_train" / "data.yaml").read_text()

    first = results["arms"]
    shutil.rmtree(tmp_path / "runs")  # a rerun takes finished (arm, seed) scores from OUT/scores
    res = _run(sets, tmp_path, "--oracle", str(sets / "oracle"), "--real-val", str(sets / "test" / "polar"),
               "--rgb-train", str(sets / "train" / "rgb"), "--rgb-test", str(sets / "test" / "rgb"))
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "runs").exists()
    assert json.loads((tmp_path / "results.json").read_text())["arms"] == first
    res = _run(sets, tmp_path, "--epochs", "2")
    assert res.exit_code == 2 and "other settings" in res.output and "epochs" in res.output


def test_bad_inputs_fail_early_with_the_file_named(sets, tmp_path):
    res = _run(sets, tmp_path / "a", "--weights", str(tmp_path / "none.pt"))
    assert res.exit_code == 2 and "none.pt" in res.output and "downloaded" in res.output

    unlabelled = tmp_path / "unlabelled"
    shutil.copytree(sets / "test" / "polar", unlabelled)
    shutil.rmtree(unlabelled / "labels")
    res = CliRunner().invoke(app, ["eval-detection", "--real-train", str(sets / "train" / "polar"), "--real-test",
                                   str(unlabelled), "--out", str(tmp_path / "b")])
    assert res.exit_code == 2 and "unlabelled" in res.output and "no labels" in res.output

    res = _run(sets, tmp_path / "c", "--rgb-train", str(sets / "train" / "rgb"))
    assert res.exit_code == 2 and "--rgb-test" in res.output
    res = _run(sets, tmp_path / "d", "--oracle", str(sets / "oracle3"))
    assert res.exit_code == 2 and "synth-0003-000003" in res.output and "oracle3" in res.output
    res = _run(sets, tmp_path / "e", "--synthetic", f"syn={sets / 'oracle'}")
    assert res.exit_code == 2 and "'syn' is given twice" in res.output


def test_a_changed_input_at_the_same_path_is_refused(sets, tmp_path):
    import os

    syn = tmp_path / "syn"
    shutil.copytree(sets / "syn", syn)
    args = ["eval-detection", "--real-train", str(sets / "train" / "polar"), "--real-test",
            str(sets / "test" / "polar"), "--synthetic", str(syn), "--control", "none", "--out", str(tmp_path / "o"),
            "--seeds", "1", "--epochs", "1", "--imgsz", "64"]
    assert CliRunner().invoke(app, args).exit_code == 0
    img = next((syn / "images").rglob("*.png"))
    os.utime(img, ns=(img.stat().st_atime_ns, img.stat().st_mtime_ns + 10**9))  # e.g. re-translated
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "synthetic" in res.output and "other settings" in res.output


def test_detection_settings_are_keyword_only_and_check_their_values(tmp_path):
    with pytest.raises(TypeError):
        DetectionSettings("intensities", "mix")  # positional settings are refused
    s = DetectionSettings(encoding="stokes", seeds=(0,), epochs=1)
    assert s.to_dict()["seeds"] == [0] and s.protocol == "mix" and s.imgsz == 160 and s.budget == "equal-steps"
    with pytest.raises(ConfigError, match="protocol"):
        DetectionSettings(protocol="both")
    with pytest.raises(ConfigError, match="budget"):
        DetectionSettings(budget="equal-minutes")
    with pytest.raises(ConfigError, match="ratios"):
        DetectionSettings(ratios=(0.0,))
    with pytest.raises(ConfigError, match="seed"):
        DetectionSettings(seeds=())
    with pytest.raises(InputError, match="none.pt: no such weights file"):
        DetectionSettings(weights=str(tmp_path / "none.pt"))


def test_arms_and_seeds_can_be_added_to_a_finished_experiment(sets, tmp_path, monkeypatch):
    from polaraug.detect import evaluation
    from polaraug.detect.evaluation import Score

    trained = []

    def fake(arm, plan, seed, settings, runs, records):  # what would be trained, without training
        trained.append((arm.name, seed))
        return Score(0.1 + seed / 100, 0.05, {}, {}, [])

    monkeypatch.setattr(evaluation, "_run_arm", fake)
    base = ["--control", "none"]
    assert _run(sets, tmp_path, *base).exit_code == 0
    assert trained == [("real", 0), ("real+syn", 0)]
    res = _run(sets, tmp_path, *base, "--oracle", str(sets / "oracle"), "--seeds", "2")  # one arm and one seed more
    assert res.exit_code == 0, res.output
    assert trained[2:] == [("real+oracle", 0), ("real", 1), ("real+syn", 1), ("real+oracle", 1)]
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["arms"]) == {"real", "real+syn", "real+oracle"}
    assert results["arms"]["real"]["map50"]["runs"] == [0.1, 0.11]
    recorded = json.loads((tmp_path / "settings.json").read_text())
    assert recorded["seeds"] == [0, 1] and "oracle" in recorded and recorded["images_per_epoch"] == 8
    assert _run(sets, tmp_path, *base).exit_code == 0 and len(trained) == 6  # a subset: nothing to train
    # an added arm that would change every arm's images per epoch, or another common setting: refused
    res = _run(sets, tmp_path, *base, "--ratio", "3")
    assert res.exit_code == 2 and "ratios" in res.output
    res = _run(sets, tmp_path, *base, "--oracle", str(sets / "syn"))  # the oracle arm's input changed
    assert res.exit_code == 2 and "oracle" in res.output
    res = _run(sets, tmp_path, *base, "--synthetic", f"more={sets / 'oracle'}")  # a second translator
    assert res.exit_code == 0, res.output
    assert trained[6:] == [("real+more", 0)]
    recorded = json.loads((tmp_path / "settings.json").read_text())
    (tmp_path / "settings.json").write_text(json.dumps({**recorded, "images_per_epoch": 12}))
    res = _run(sets, tmp_path, *base)  # as if an added arm had changed every arm's images per epoch
    assert res.exit_code == 2 and "images_per_epoch" in res.output and len(trained) == 7


def test_settings_come_back_from_their_record():
    from polaraug.detect.settings import DetectionSettings

    s = DetectionSettings(seeds=(0, 2), ratios=(0.5, 2.0), classes=("car", "bus"), epochs=3, nbs=8, real_size=25)
    record = {**s.to_dict(), "real_train": ["/somewhere", [1, 2, 3]]}  # an experiment's settings.json
    assert DetectionSettings.from_dict(record) == s
