import csv

import pytest
import torch
from typer.testing import CliRunner

from polaraug.cameras import load_camera
from polaraug.cli import app
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import TranslatorConfig, load_checkpoint
from polaraug.translate.data import UnpairedCrops
from polaraug.translate.train import lr_factor, train

TINY = TranslatorConfig(mode="project", ngf=8, n_blocks=2, ndf=8, n_layers=2, crop=32, pool_size=2, epochs=1,
                        decay_epochs=1)


@pytest.fixture(scope="module")
def paired(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    generate(SynthConfig(n=4, width=64, height=48, seed=9), root, workers=1, progress=False)
    return root


def _data(paired):
    return UnpairedCrops.from_folders(paired / "rgb", paired / "polar", load_camera("ideal"), crop=32, batch=2, seed=1)


def test_interrupted_training_resumes_to_the_same_model(paired, tmp_path):
    cam = load_camera("ideal")
    full = train(_data(paired), tmp_path / "full", TINY, cam, max_steps=5, progress=False)
    train(_data(paired), tmp_path / "cut", TINY, cam, max_steps=3, checkpoint_every=1, progress=False)
    resumed = train(_data(paired), tmp_path / "cut", TINY, cam, max_steps=5, progress=False)
    assert resumed.steps == 5
    a, _ = load_checkpoint(full.checkpoint)
    b, _ = load_checkpoint(resumed.checkpoint)
    for (name, p), (_, q) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg=name)
    rows = list(csv.DictReader((tmp_path / "cut" / "log.csv").open()))
    full_rows = list(csv.DictReader((tmp_path / "full" / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [3, 5]  # each run logs its last step; no duplicates
    assert rows[-1]["g"] == full_rows[-1]["g"] and rows[-1]["d_b"] == full_rows[-1]["d_b"]
    assert list((tmp_path / "cut" / "samples").glob("step_*.png"))
    assert list((tmp_path / "cut" / "tensorboard").glob("events.out.tfevents.*"))


def test_learning_rate_schedule_is_constant_then_linear():
    cfg = TranslatorConfig(epochs=2, decay_epochs=2)
    assert [lr_factor(s, 10, cfg) for s in (0, 15, 25, 35)] == [1.0, 1.0, pytest.approx(2 / 3), pytest.approx(1 / 3)]


def test_cli_train_and_bad_folders(paired, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["train", "--rgb", str(paired / "rgb"), "--polar", str(paired / "polar"), "--out",
                              str(tmp_path / "run"), "--preset", "cpu-small", "--steps", "2", "--mode", "relax"])
    assert res.exit_code == 0, res.output
    model, state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["step"] == 2 and model.cfg.mode == "relax" and model.cfg.ngf == 16
    res = runner.invoke(app, ["train", "--rgb", str(tmp_path / "nope"), "--polar", str(paired / "polar"),
                              "--out", str(tmp_path / "r2"), "--steps", "1"])
    assert res.exit_code == 2 and "nope" in res.output


def test_two_process_gloo_training_under_torchrun(paired, tmp_path):
    """torchrun starts two CPU processes; gradients are averaged, so both ranks end with identical weights
    (train() compares parameter checksums across ranks and raises if they diverged)."""
    import os
    import shutil
    import subprocess
    import sys

    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    assert torchrun, "torchrun comes with torch"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run([torchrun, "--standalone", "--nproc_per_node=2", "-m", "polaraug", "train",
                          "--rgb", str(paired / "rgb"), "--polar", str(paired / "polar"), "--out",
                          str(tmp_path / "run"), "--preset", "cpu-small", "--steps", "2"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert res.stdout.count("trained 2 steps") == 1
    _, state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["step"] == 2 and len(state["pools"]) == 2  # each rank's image history
    cmd = res.args[:-1] + ["3"]  # resume both ranks for one more step
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")[1]["step"] == 3


def test_csv_log_keeps_its_header_when_a_resume_drops_every_row(tmp_path):
    from polaraug.translate.train import ResumableCsv

    path = tmp_path / "log.csv"
    path.write_text("step,g\n5,1.0\n6,2.0\n")
    log = ResumableCsv(path, resume_step=0)  # a crash before the first checkpoint: start over
    log.write({"step": 1, "g": 3.0})
    assert list(csv.DictReader(path.open())) == [{"step": "1", "g": "3.0"}]


def test_resuming_with_another_seed_is_refused(paired, tmp_path):
    cam = load_camera("ideal")
    train(_data(paired), tmp_path / "run", TINY, cam, max_steps=1, progress=False)
    with pytest.raises(ValueError, match="seed 0, not 7"):
        train(_data(paired), tmp_path / "run", TINY, cam, seed=7, max_steps=2, progress=False)
