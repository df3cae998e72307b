import hashlib

import numpy as np
import pytest
from typer.testing import CliRunner

from polaraug.cameras import load_camera
from polaraug.cli import app
from polaraug.data.bdd100k import read_bdd100k
from polaraug.data.kitti import read_kitti
from polaraug.data.polarset import read_polarset
from polaraug.io.images import read_image
from polaraug.physics.quantize import check_quantized
from polaraug.synth.generate import SynthConfig, generate, split_of
from polaraug.synth.sensor import SensorConfig


def _digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and ".synth" not in p.parts and p.name != "manifest.json":
            h.update(p.relative_to(root).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def paired(tmp_path_factory):
    out = tmp_path_factory.mktemp("paired")
    cfg = SynthConfig(n=8, width=96, height=64, seed=3, val_fraction=0.25)
    summary = generate(cfg, out, workers=2, progress=False)
    return out, cfg, summary


def test_paired_sets_share_scenes_and_labels(paired):
    out, cfg, summary = paired
    n_val = sum(split_of(cfg, i) == "val" for i in range(cfg.n))
    assert summary["frames"] == {"train": cfg.n - n_val, "val": n_val} and 1 <= n_val < cfg.n
    polar = read_polarset(out / "polar")
    for split in ("train", "val"):
        rgb_frames = list(read_bdd100k(out / "rgb", split))
        pol_frames = list(polar.frames(split))
        assert [f.stem for f in rgb_frames] == [f.stem for f in pol_frames]
        for a, b in zip(rgb_frames, pol_frames, strict=True):
            assert [(x.cls, x.x1, x.y1, x.x2, x.y2) for x in a.boxes] == [(x.cls, x.x1, x.y1, x.x2, x.y2)
                                                                         for x in b.boxes]
            rgb = read_image(a.image).astype(np.float64)
            s0 = polar.load(b).sum(axis=-1)
            lin = (rgb / 255) ** 2.2 @ np.array([0.2126, 0.7152, 0.0722])
            assert np.corrcoef(lin.ravel(), s0.ravel())[0, 1] > 0.9  # the same image, pixel for pixel


def test_everything_written_is_admissible(paired):
    out, _, _ = paired
    polar = read_polarset(out / "polar")
    for split in ("train", "val"):
        for f in polar.frames(split):
            assert check_quantized(read_image(f.image), polar.camera.matrix()) == 0


def test_same_seed_same_bytes_and_resume(paired, tmp_path):
    out, cfg, _ = paired
    generate(cfg, tmp_path / "again", workers=1, progress=False)
    assert _digest(tmp_path / "again") == _digest(out)
    # A run killed half-way: its finished frames stay, the rest is rendered, the result is identical.
    victim = sorted((tmp_path / "again" / ".synth" / "records").iterdir())[3]
    image = next((tmp_path / "again" / "polar" / "images").rglob(f"*{victim.stem}.png"))
    victim.unlink()
    image.unlink()
    generate(cfg, tmp_path / "again", workers=1, progress=False)
    assert _digest(tmp_path / "again") == _digest(out)


def test_kitti_layout_dofp_and_8_bit(tmp_path):
    cam = load_camera("sony_imx250mzr")
    cfg = SynthConfig(n=3, width=64, height=48, mode="paired", rgb_layout="kitti", camera=cam,
                      sensor=SensorConfig(bits=8, dofp_pattern=cam.dofp_pattern))
    generate(cfg, tmp_path, workers=1, progress=False)
    frames = list(read_kitti(tmp_path / "rgb"))
    assert len(frames) == 3 and frames[0].name == "000000.png" and (frames[0].width, frames[0].height) == (64, 48)
    polar = read_polarset(tmp_path / "polar")
    assert polar.bits == 8 and polar.camera.name == "sony_imx250mzr"
    for f in polar.frames("train"):
        img = read_image(f.image)
        assert img.dtype == np.uint8 and check_quantized(img, cam.matrix()) == 0


def test_cli_synth_and_bad_options(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["synth", str(tmp_path / "s"), "-n", "2", "--size", "64x48", "--mode", "polar",
                              "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "wrote 2 frames" in res.output and (tmp_path / "s" / "manifest.json").is_file()
    for bad, msg in ((["--size", "64"], "--size"), (["--mode", "x"], "mode"), (["--bits", "10"], "bits"),
                     (["--dofp"], "dofp_pattern")):
        res = runner.invoke(app, ["synth", str(tmp_path / "t"), "-n", "1", *bad])
        assert res.exit_code == 2 and msg in res.output, res.output


def test_other_settings_are_refused_and_a_lost_image_is_rendered_again(paired, tmp_path):
    out, cfg, _ = paired
    with pytest.raises(ValueError, match="other settings"):
        generate(SynthConfig(n=8, width=96, height=64, seed=4, val_fraction=0.25), out, workers=1, progress=False)
    image = sorted((out / "rgb" / "images" / "100k").rglob("*.jpg"))[0]
    before = image.read_bytes()
    image.unlink()
    generate(cfg, out, workers=1, progress=False)
    assert image.read_bytes() == before


def test_tiny_and_fogged_out_objects_are_ignore_regions(tmp_path):
    cfg = SynthConfig(n=6, width=96, height=64, seed=5, weather="foggy", night_fraction=0.0, mode="rgb")
    generate(cfg, tmp_path, workers=1, progress=False)
    boxes = [b for split in ("train", "val") for f in read_bdd100k(tmp_path, split) for b in f.boxes]
    assert any(b.ignore for b in boxes) and any(not b.ignore for b in boxes)


def test_twelve_bit_sets_round_trip(tmp_path):
    cfg = SynthConfig(n=2, width=64, height=48, mode="polar", sensor=SensorConfig(bits=12))
    generate(cfg, tmp_path, workers=1, progress=False)
    polar = read_polarset(tmp_path)
    assert polar.bits == 12
    for split in polar.splits:
        for f in polar.frames(split):
            raw = read_image(f.image)
            assert raw.dtype == np.uint16 and 3000 < raw.max() <= 4095  # auto-exposed 12-bit values
            assert check_quantized(raw, polar.camera.matrix(), bits=12) == 0
            assert polar.load(f).max() <= 1.0
