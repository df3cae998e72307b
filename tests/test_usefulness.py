"""The usefulness benchmark at its --quick size: one command renders the sets, translates with the built-in translator,
translates, runs every experiment (learning curve, controls, pretrain-finetune) and writes its results;
finished trainings are kept and can start a run elsewhere (plumbing, not AP)."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.detect import evaluation
from polaraug.detect.usefulness import (
    QUICK,
    UsefulnessConfig,
    content_digest,
    experiments,
    settings_of,
    trainings,
)
from polaraug.errors import ConfigError
from polaraug.translate.builtin import builtin_translator


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    root = tmp_path_factory.mktemp("usefulness")
    res = CliRunner().invoke(app, ["eval-detection", "--quick", "--out", str(root / "out"), "--keep-scores",
                                   str(root / "saved"), "--figures", str(root / "figures")])
    assert res.exit_code == 0, res.output
    return root, res.output


def test_the_bare_command_runs_the_whole_benchmark_and_reports_it(quick):
    root, output = quick
    summary = json.loads((root / "out" / "usefulness.json").read_text())
    assert set(summary["n_real"]) == {"3", "6"} and set(summary["pretrain_finetune"]["n_real"]) == {"3"}
    smallest = summary["n_real"]["3"]
    assert list(smallest["arms"]) == ["real", "real+translated", "real+oracle", "real+translated-unpolarized",
                                      "real+oracle-unpolarized"]
    assert len(smallest["arms"]["real"]["map50"]["runs"]) == QUICK.control_seeds
    assert set(smallest["controls"]) == {"real+translated-unpolarized", "real+oracle-unpolarized"}
    assert "bootstrap" in smallest["controls"]["real+oracle-unpolarized"]
    assert list(summary["n_real"]["6"]["arms"]) == ["real", "real+translated", "real+oracle"]
    # every arm adds the same number of frames at every size, at equal steps
    assert summary["n_real"]["6"]["arms"]["real"]["images_per_epoch"] == 6 + QUICK.extra
    assert smallest["arms"]["real+oracle"]["images_per_epoch"] == 3 + QUICK.extra
    assert summary["settings"]["sizes"] == [3, 6] and set(summary["inputs"]) == {"real", "test", "oracle",
                                                                                "translated"}
    assert "3 real frames" in output and "polarization:" in output and "usefulness.json" in output
    for chart in ("usefulness_curve.png", "usefulness_polarization.png", "usefulness.md"):
        assert (root / "out" / chart).is_file() and (root / "figures" / chart).is_file()
    assert (root / "figures" / "usefulness.json").is_file() and all(summary["experiments"].values())
    # every training records its wall-clock time, and the summary adds them up
    t = summary["seconds"]
    every = [*summary["n_real"].values(), *summary["pretrain_finetune"]["n_real"].values()]
    assert t["trainings"] == t["of"] == sum(len(a["map50"]["runs"]) for r in every for a in r["arms"].values())
    assert t["total"] > 0 and "measured:" in output


def test_the_narrow_real_set_and_the_wide_test_set(quick):
    root, _ = quick
    conditions = json.loads((root / "out" / "experiments" / "mix_n3" / "datasets" / "real_train" /
                             "conditions.json").read_text())
    assert set(conditions.values()) == {"clear"} and len(conditions) == QUICK.real_pool
    test = json.loads((root / "out" / "experiments" / "mix_n3" / "datasets" / "real_test" /
                       "conditions.json").read_text())
    assert len(test) == QUICK.test and len(set(test.values())) > 1


def test_a_rerun_trains_nothing_and_saved_scores_start_a_fresh_run(quick, tmp_path, monkeypatch):
    root, _ = quick
    saved = root / "saved"
    assert {p.name for p in saved.iterdir()} == {e.name for e in experiments(QUICK)}
    assert len(list((saved / "mix_n3").glob("*_s*.json"))) == 5 * QUICK.control_seeds
    assert (saved / "mix_n3" / "usefulness_inputs.json").is_file()

    def refuse(*args, **kwargs):
        raise AssertionError("a finished training was run again")

    monkeypatch.setattr(evaluation, "_run_arm", refuse)
    checkpoint = builtin_translator()  # what the benchmark translated with
    first = json.loads((root / "out" / "usefulness.json").read_text())
    res = CliRunner().invoke(app, ["eval-detection", "--quick", "--out", str(root / "out")])
    assert res.exit_code == 0, res.output
    # elsewhere, from the saved scores: the same sets are rendered and translated again, nothing is trained
    res = CliRunner().invoke(app, ["eval-detection", "--quick", "--out", str(tmp_path / "elsewhere"),
                                   "--checkpoint", str(checkpoint), "--keep-scores", str(saved)])
    assert res.exit_code == 0, res.output
    assert "taken from" in res.output
    other = tmp_path / "other.pt"
    other.write_bytes(checkpoint.read_bytes() + b"\0")  # another translator: its hash differs
    res = CliRunner().invoke(app, ["eval-detection", "--quick", "--out", str(tmp_path / "elsewhere"),
                                   "--checkpoint", str(other)])
    assert res.exit_code == 2 and "translated with another checkpoint" in res.output
    again = json.loads((tmp_path / "elsewhere" / "usefulness.json").read_text())
    assert again["n_real"]["3"]["arms"]["real+oracle"]["map50"] == first["n_real"]["3"]["arms"]["real+oracle"]["map50"]
    assert again["inputs"] == first["inputs"]


def test_saved_scores_of_other_inputs_are_not_reused(quick, tmp_path):
    from polaraug.detect.usefulness import seed_from_saved

    root, _ = quick
    saved = tmp_path / "saved"
    shutil.copytree(root / "saved" / "mix_n3", saved)
    digests = json.loads((saved / "usefulness_inputs.json").read_text())
    settings = settings_of(QUICK, experiments(QUICK)[0]).to_dict()
    said = []
    assert seed_from_saved(saved, tmp_path / "exp", digests, {**settings, "device": "0"}, said.append) == 0
    assert "device differ" in said[0] and not (tmp_path / "exp" / "scores").exists()
    # another translator: only the arms that train on translations train again
    assert seed_from_saved(saved, tmp_path / "exp", {**digests, "translated": "other"}, settings, said.append) == \
        3 * QUICK.control_seeds
    assert "translated differ" in said[1]
    copied = {p.name for p in (tmp_path / "exp" / "scores").iterdir()}
    assert "real_s0.json" in copied and "real_oracle-unpolarized_s0.npz" in copied
    assert not any("translated" in name for name in copied)
    # another test set: nothing is reused
    assert seed_from_saved(saved, tmp_path / "exp2", {**digests, "test": "other"}, settings, said.append) == 0
    assert seed_from_saved(saved, tmp_path / "exp", digests, settings, said.append) == 2 * QUICK.control_seeds


def test_saved_scores_of_other_inputs_are_replaced_not_relabelled(quick, tmp_path):
    from polaraug.detect.usefulness import _save_scores

    root, _ = quick
    saved = tmp_path / "saved"
    shutil.copytree(root / "saved" / "mix_n6", saved)
    (saved / "usefulness_inputs.json").write_text(json.dumps({"real": "older"}))
    (saved / "real_s7.json").write_text("{}")  # a score of those older inputs
    _save_scores(root / "out" / "experiments" / "mix_n6", saved, {"real": "newer"})
    assert not (saved / "real_s7.json").exists() and (saved / "real_s0.json").is_file()
    assert json.loads((saved / "usefulness_inputs.json").read_text()) == {"real": "newer"}


def test_a_new_translator_replaces_only_the_translation_arms_saved_scores(quick, tmp_path):
    from polaraug.detect.usefulness import _save_scores

    root, _ = quick
    saved = tmp_path / "saved"
    shutil.copytree(root / "saved" / "mix_n6", saved)
    digests = json.loads((saved / "usefulness_inputs.json").read_text())
    (saved / "usefulness_inputs.json").write_text(json.dumps({**digests, "translated": "older"}))
    for stem in ("real_s7", "real_oracle_s7", "real_translated_s7"):  # scores of the older translations' run
        (saved / f"{stem}.json").write_text("{}")
    _save_scores(tmp_path / "empty", saved, digests)
    assert (saved / "real_s7.json").is_file() and (saved / "real_oracle_s7.json").is_file()
    assert not (saved / "real_translated_s7.json").exists()
    assert json.loads((saved / "usefulness_inputs.json").read_text()) == digests


def test_arm_inputs():
    from polaraug.detect.usefulness import arm_inputs

    assert arm_inputs("real_s0") == ("real", "test")
    assert arm_inputs("real_oracle-unpolarized_s12") == ("real", "test", "oracle")
    assert arm_inputs("real_translated_s1") == ("real", "test", "translated")
    assert arm_inputs("real_mystery_s1") == ("real", "test", "oracle", "translated")


def test_the_bare_command_refuses_options_it_would_ignore(tmp_path):
    res = CliRunner().invoke(app, ["eval-detection", "--quick", "--out", str(tmp_path), "--protocol",
                                   "pretrain-finetune", "--ratio", "2"])
    assert res.exit_code == 2 and "--protocol, --ratio: not options of the built-in benchmark" in res.output
    assert not any(tmp_path.iterdir())


def test_the_bare_command_takes_the_encoding(tmp_path, monkeypatch):
    from polaraug.detect import usefulness

    seen = {}

    def fake(out, *, cfg, **kwargs):
        seen["cfg"] = cfg
        return {"summary": []}

    monkeypatch.setattr(usefulness, "run_usefulness", fake)
    res = CliRunner().invoke(app, ["eval-detection", "--quick", "--out", str(tmp_path), "--encoding", "hsv"])
    assert res.exit_code == 0, res.output
    assert seen["cfg"].encoding == "hsv" and seen["cfg"].epochs == QUICK.epochs
    res = CliRunner().invoke(app, ["eval-detection", "--quick", "--out", str(tmp_path), "--encoding", "rgb"])
    assert res.exit_code == 2 and "encoding" in res.output


def test_content_digest_follows_content_not_place_or_time(tmp_path):
    a = tmp_path / "a"
    (a / "images").mkdir(parents=True)
    (a / "images" / "x.png").write_bytes(b"pixels")
    (a / "manifest.json").write_text(json.dumps({"frames": 1, "created": "today"}))
    b = tmp_path / "b"
    shutil.copytree(a, b)
    (b / "manifest.json").write_text(json.dumps({"frames": 1, "created": "tomorrow"}))
    assert content_digest(a) == content_digest(b)
    (b / "images" / "x.png").write_bytes(b"pixelz")
    assert content_digest(a) != content_digest(b)


def test_content_digest_ignores_randomisation_fields_at_their_off_values(tmp_path):
    # The same renders, one manifest listing the per-frame randomisation fields switched off, the other
    # leaving them out: the same content.
    base = {"paint_jitter": 0.03}
    listed = dict(base, index_jitter=0.0, specular_scale=[1.0, 1.0], albedo_jitter=0.0, sky_dolp_scale_range=None)
    digests = []
    for name, domain in (("a", base), ("b", listed), ("c", dict(listed, index_jitter=0.05))):
        root = tmp_path / name
        (root / "images").mkdir(parents=True)
        (root / "images" / "x.png").write_bytes(b"pixels")
        doc = {"provenance": {"synth": {"domain_settings": domain}}}
        (root / "manifest.json").write_text(json.dumps(doc))
        digests.append(content_digest(root))
    assert digests[0] == digests[1]
    assert digests[2] != digests[0]  # a field switched on is content


def test_the_plan_counts_its_trainings_and_checks_its_settings():
    runs = experiments(UsefulnessConfig())
    assert [r.name for r in runs] == ["mix_n25", "mix_n50", "mix_n100", "pretrain-finetune_n25"]
    assert runs[0].seeds == 5 and runs[0].controls and not runs[1].controls
    assert [trainings(r) for r in runs] == [25, 9, 9, 12]  # pretrain-finetune: two per arm, real reused
    with pytest.raises(ConfigError, match="exceeds the real pool"):
        UsefulnessConfig(sizes=(25, 400))
    with pytest.raises(ConfigError, match="increasing"):
        UsefulnessConfig(sizes=(50, 25))
    res = CliRunner().invoke(app, ["eval-detection", "--real-train", "x"])
    assert res.exit_code == 2 and "both --real-train and --real-test" in res.output


def test_the_polarization_seeds_benchmark_trains_the_oracle_and_its_control_and_resumes(quick, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root, _ = quick
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "polarization_seeds.py"
    cmd = [sys.executable, str(script), "--quick", "--data", str(root / "out" / "data"), "--out", str(tmp_path / "ps"),
           "--seeds", "2", "--json", str(tmp_path / "p.json"), "--figure", str(tmp_path / "p.png")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    result = json.loads((tmp_path / "p.json").read_text())
    assert {k: len(v) for k, v in result["map50"].items()} == {"real+oracle": 2, "real+oracle-unpolarized": 2}
    d = result["difference"]
    assert d["of"] == "real+oracle - real+oracle-unpolarized" and d["n"] == 2
    assert d["mean"] == pytest.approx(result["mean"]["real+oracle"] - result["mean"]["real+oracle-unpolarized"])
    scores = sorted(p.stem for p in (tmp_path / "ps" / "scores").glob("*.json"))
    assert scores == ["real_oracle-unpolarized_s0", "real_oracle-unpolarized_s1", "real_oracle_s0", "real_oracle_s1"]
    assert (tmp_path / "p.png").stat().st_size > 0
    shutil.rmtree(tmp_path / "ps" / "runs")
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-2000:]
    assert not (tmp_path / "ps" / "runs").exists()  # every score was kept: nothing trained again
    assert json.loads((tmp_path / "p.json").read_text())["map50"] == result["map50"]
