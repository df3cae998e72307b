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
