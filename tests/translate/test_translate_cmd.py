"""End to end: `polaraug translate` on a tiny generated BDD100K set, then `polaraug validate`."""

import hashlib
import json

import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.data.bdd100k import read_bdd100k
from polaraug.data.polarset import read_polarset
from polaraug.physics import camera_matrix
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig, save_checkpoint

runner = CliRunner()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("t")
    generate(SynthConfig(n=6, width=60, height=44, seed=8, mode="rgb"), root / "bdd", workers=1, progress=False)
    cfg = TranslatorConfig(mode="relax", ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32)
    save_checkpoint(ConstrainedCycleGAN(cfg, camera_matrix()), root / "c.pt", step=0, epoch=0, camera_name="ideal")
    return root


def _run(setup, out, *extra):
    return runner.invoke(app, ["translate", str(setup / "bdd"), str(out), "--checkpoint", str(setup / "c.pt"),
                               "--batch", "1", "--workers", "2", *extra])


def _digest(root):
    h = hashlib.sha256()
    for p in sorted((root / "images").rglob("*.png")):
        h.update(p.name.encode() + p.read_bytes())
    for p in sorted((root / "labels").glob("*.json")):
        h.update(p.read_bytes())
    return h.hexdigest()


def test_translate_writes_every_frame_with_its_boxes_and_validates(setup, tmp_path):
    res = _run(setup, tmp_path / "out", "--project")
    assert res.exit_code == 0, res.output
    assert "translated 6 frames" in res.output
    ps = read_polarset(tmp_path / "out")
    m = ps.manifest["provenance"]
    assert m["constraint_mode"] == "relax" and m["projected"] and len(m["checkpoint_sha256"]) == 64
    assert len(m["frames"]) == 6 and set(m["frames"].values()) == {"ok"}
    for split in ("train", "val"):
        src = {f.stem: f for f in read_bdd100k(setup / "bdd", split)}
        out = list(ps.frames(split))
        assert sorted(f.stem for f in out) == sorted(src)
        for f in out:
            s = src[f.stem]
            assert (f.width, f.height) == (60, 44)  # full resolution, no resize
            assert [(b.cls, b.x1, b.y1, b.x2, b.y2, b.ignore) for b in f.boxes] == \
                   [(b.cls, b.x1, b.y1, b.x2, b.y2, b.ignore) for b in s.boxes]
            assert ps.load(f).shape == (44, 60, 4)
    assert (tmp_path / "out" / "yolo" / "data.yaml").is_file()
    res = runner.invoke(app, ["validate", str(tmp_path / "out"), "--max-inadmissible", "0", "--workers", "1"])
    assert res.exit_code == 0, res.output


def test_interrupted_run_resumes_to_identical_files(setup, tmp_path):
    full = tmp_path / "full"
    assert _run(setup, full).exit_code == 0
    part = tmp_path / "part"
    assert _run(setup, part).exit_code == 0
    victims = sorted((part / ".translate" / "records").glob("*.json"))[:3]  # as if killed part-way
    for rec in victims:
        stem = json.loads(rec.read_text())["stem"]
        next((part / "images").rglob(f"{stem}.png")).unlink()
        rec.unlink()
    res = _run(setup, part)
    assert res.exit_code == 0 and "3 already there" in res.output
    assert _digest(part) == _digest(full)


def test_corrupt_frames_are_skipped_and_bad_checkpoints_fail_before_work(setup, tmp_path):
    src = tmp_path / "bdd"
    import shutil

    shutil.copytree(setup / "bdd", src)
    victim = sorted((src / "images" / "100k" / "train").glob("*.jpg"))[0]
    victim.write_bytes(victim.read_bytes()[:100])  # truncated JPEG
    res = runner.invoke(app, ["translate", str(src), str(tmp_path / "out"), "--checkpoint", str(setup / "c.pt"),
                              "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "1 unreadable" in res.output and victim.name in res.output
    (tmp_path / "junk.pt").write_bytes(b"junk")
    res = runner.invoke(app, ["translate", str(src), str(tmp_path / "out2"), "--checkpoint", str(tmp_path / "junk.pt")])
    assert res.exit_code == 2 and "junk.pt" in res.output and not (tmp_path / "out2").exists()


def test_translate_under_torchrun_shards_and_merges(setup, tmp_path):
    import os
    import shutil
    import subprocess
    import sys

    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    res = subprocess.run([torchrun, "--standalone", "--nproc_per_node=2", "-m", "polaraug", "translate",
                          str(setup / "bdd"), str(tmp_path / "out"), "--checkpoint", str(setup / "c.pt"),
                          "--batch", "1", "--workers", "1"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    single = tmp_path / "single"
    assert _run(setup, single).exit_code == 0
    assert _digest(tmp_path / "out") == _digest(single)  # shards merged into the same set
    assert len(read_polarset(tmp_path / "out").manifest["provenance"]["frames"]) == 6


def test_stokes_head_translates_for_another_camera_and_intensities_head_refuses(tmp_path):
    import numpy as np

    from polaraug.cameras import load_camera
    from polaraug.physics import stokes_from_intensities

    generate(SynthConfig(n=2, width=40, height=32, seed=3, mode="rgb"), tmp_path / "src", workers=1, progress=False)
    cfg = TranslatorConfig(head="stokes", ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32)
    save_checkpoint(ConstrainedCycleGAN(cfg, camera_matrix()), tmp_path / "s.pt", step=0, epoch=0, camera_name="ideal")
    runner = CliRunner()
    sets = {}
    for name, extra in (("ideal", []), ("shifted", ["--calibration", "shifted_dofp"])):
        res = runner.invoke(app, ["translate", str(tmp_path / "src"), str(tmp_path / name), "--checkpoint",
                                  str(tmp_path / "s.pt"), "--workers", "1", *extra])
        assert res.exit_code == 0, res.output
        sets[name] = read_polarset(tmp_path / name)
    cam = load_camera("shifted_dofp")
    assert np.allclose(sets["shifted"].camera.matrix(), cam.matrix(), atol=1e-5)  # the manifest says which camera
    f_ideal, f_shifted = (min(sets[k].frames("train"), key=lambda f: f.stem) for k in ("ideal", "shifted"))
    assert f_ideal.stem == f_shifted.stem
    y_ideal, y_shifted = sets["ideal"].load(f_ideal), sets["shifted"].load(f_shifted)
    assert np.abs(y_ideal - y_shifted).max() > 1e-3  # other intensities...
    s_ideal = stokes_from_intensities(y_ideal.astype(np.float64), camera_matrix(dtype=np.float64))
    s_shifted = stokes_from_intensities(y_shifted.astype(np.float64), cam.matrix(np.float64))
    # ...of the same light (up to 16-bit quantisation) where neither camera's pixel went past the range (those
    # are scaled down whole when written, by a factor that depends on the camera)
    in_range = (y_ideal.max(-1) < 0.999) & (y_shifted.max(-1) < 0.999)
    assert in_range.mean() > 0.3
    assert np.abs(s_ideal - s_shifted)[in_range].max() < 3e-4
    cfg_i = TranslatorConfig(head="intensities", mode="project", ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32)
    save_checkpoint(ConstrainedCycleGAN(cfg_i, camera_matrix()), tmp_path / "i.pt", step=0, epoch=0)
    res = runner.invoke(app, ["translate", str(tmp_path / "src"), str(tmp_path / "x"), "--checkpoint",
                              str(tmp_path / "i.pt"), "--calibration", "shifted_dofp"])
    assert res.exit_code == 2 and "Stokes-head" in res.output and not (tmp_path / "x").exists()
