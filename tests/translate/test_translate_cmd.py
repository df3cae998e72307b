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
    victims = sorted((part / ".translate" / "records").rglob("*.json"))[:3]  # as if killed part-way
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

    src = tmp_path / "bdd"
    shutil.copytree(setup / "bdd", src)
    victim = sorted((src / "images" / "100k" / "train").glob("*.jpg"))[-1]
    victim.write_bytes(victim.read_bytes()[:100])  # unreadable: whichever rank holds it must report it
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    res = subprocess.run([torchrun, "--standalone", "--nproc_per_node=2", "-m", "polaraug", "translate",
                          str(src), str(tmp_path / "out"), "--checkpoint", str(setup / "c.pt"),
                          "--batch", "2", "--workers", "1"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-3000:]
    single = tmp_path / "single"
    res = runner.invoke(app, ["translate", str(src), str(single), "--checkpoint", str(setup / "c.pt"), "--batch",
                              "2", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert _digest(tmp_path / "out") == _digest(single)  # shards merged into the same set
    prov = read_polarset(tmp_path / "out").manifest["provenance"]
    assert len(prov["frames"]) == 5
    assert len(prov["unreadable"]) == 1 and victim.name in prov["unreadable"][0]


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
                                  str(tmp_path / "s.pt"), "--workers", "1", "--bits", "16", *extra])
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


def test_resume_with_other_settings_is_refused_and_overwrite_starts_over(setup, tmp_path):
    out = tmp_path / "out"
    assert _run(setup, out).exit_code == 0
    before = _digest(out)
    other = TranslatorConfig(mode="none", ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32)
    save_checkpoint(ConstrainedCycleGAN(other, camera_matrix()), tmp_path / "other.pt", step=0, epoch=0,
                    camera_name="ideal")
    args = ["translate", str(setup / "bdd"), str(out), "--checkpoint", str(tmp_path / "other.pt"), "--batch", "1"]
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "another checkpoint" in res.output and "--overwrite" in res.output
    assert _digest(out) == before  # nothing of the finished set was touched
    res = _run(setup, out, "--bits", "16")
    assert res.exit_code == 2 and "bits 8, now 16" in res.output  # the default: the camera's depth (none: 8)

    res = runner.invoke(app, [*args, "--overwrite"])
    assert res.exit_code == 0 and "translated 6 frames" in res.output and "0 already there" in res.output
    prov = read_polarset(out).manifest["provenance"]
    assert prov["constraint_mode"] == "none"
    assert prov["checkpoint_sha256"] == hashlib.sha256((tmp_path / "other.pt").read_bytes()).hexdigest()


def test_batches_are_fixed_by_the_frame_list_and_size():
    import tempfile
    from pathlib import Path

    from PIL import Image

    from polaraug.data.frame import Frame
    from polaraug.translate.dataset import batches

    with tempfile.TemporaryDirectory() as d:
        sizes = [(8, 6)] * 5 + [(10, 6)] * 2 + [(8, 6)]
        frames = []
        for i, size in enumerate(sizes):
            path = Path(d) / f"{i}.png"
            Image.new("RGB", size).save(path)
            frames.append(Frame(path.name, path))
        frames.insert(3, Frame("missing.png", Path(d) / "missing.png"))  # unreadable: a batch of its own
        names = [[f.name for f in g] for g in batches(frames, 2)]
    assert names == [["0.png", "1.png"], ["2.png"], ["missing.png"], ["3.png", "4.png"], ["5.png", "6.png"],
                     ["7.png"]]


def test_manual_shards_write_what_one_process_writes(setup, tmp_path):
    single = tmp_path / "single"
    assert _run(setup, single, "--batch", "2").exit_code == 0
    shards = tmp_path / "shards"
    for i in (1, 0):
        res = _run(setup, shards, "--batch", "2", "--shard", f"{i}/2")
        assert res.exit_code == 0, res.output
    assert _digest(shards) == _digest(single)
    assert len(read_polarset(shards).manifest["provenance"]["frames"]) == 6


def test_a_killed_translation_resumes_to_the_bytes_of_an_uninterrupted_one(tmp_path):
    """A real SIGKILL part-way (not deleted files): the rerun finishes the same batches with the same numbers."""
    import os
    import signal
    import subprocess
    import sys
    import time

    generate(SynthConfig(n=48, width=96, height=64, seed=4, mode="rgb", val_fraction=0.0), tmp_path / "src",
             workers=1, progress=False)
    cfg = TranslatorConfig(mode="relax", ngf=16, n_blocks=4, ndf=8, n_layers=2, crop=32)
    save_checkpoint(ConstrainedCycleGAN(cfg, camera_matrix()), tmp_path / "c.pt", step=0, epoch=0, camera_name="ideal")

    def argv(out):
        return [sys.executable, "-m", "polaraug", "translate", str(tmp_path / "src"), str(out), "--checkpoint",
                str(tmp_path / "c.pt"), "--batch", "3", "--workers", "1"]

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    full = tmp_path / "full"
    subprocess.run(argv(full), check=True, capture_output=True, env=env, timeout=300)
    cut = tmp_path / "cut"
    proc = subprocess.Popen(argv(cut), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    records = cut / ".translate" / "records"
    deadline = time.monotonic() + 120
    while len(list(records.rglob("*.json"))) < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list(records.rglob("*.json")))
    assert 0 < done < 48, f"the kill landed outside the run ({done} of 48 frames done)"
    res = subprocess.run(argv(cut), capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert _digest(cut) == _digest(full)


@pytest.mark.parametrize("layout", ["kitti", "folder"])
def test_shards_match_one_process_for_kitti_and_folders_of_mixed_sizes(setup, tmp_path, layout):
    import shutil

    import numpy as np

    from polaraug.io.images import read_image, write_image

    if layout == "kitti":
        generate(SynthConfig(n=5, width=60, height=44, seed=9, mode="rgb", rgb_layout="kitti"), tmp_path / "src",
                 workers=1, progress=False)
        images = sorted((tmp_path / "src").rglob("image_2/*.png"))
    else:
        (tmp_path / "src").mkdir()
        for p in sorted((setup / "bdd").rglob("*.jpg")):
            shutil.copy(p, tmp_path / "src" / p.name)
        images = sorted((tmp_path / "src").glob("*.jpg"))
    for p in images[1::2]:  # every other frame another size: batches break at each change
        img = read_image(p)
        write_image(p.with_suffix(".png"), np.ascontiguousarray(img[:36, :52]))
        if p.suffix != ".png":
            p.unlink()

    def run(out, *extra):
        res = runner.invoke(app, ["translate", str(tmp_path / "src"), str(out), "--checkpoint", str(setup / "c.pt"),
                                  "--batch", "2", "--workers", "1", *extra])
        assert res.exit_code == 0, res.output

    run(tmp_path / "single")
    for i in (0, 1, 2):
        run(tmp_path / "shards", "--shard", f"{i}/3")
    single, shards = tmp_path / "single", tmp_path / "shards"
    assert _digest(shards) == _digest(single)
    sizes = {read_image(p).shape[:2] for p in (single / "images").rglob("*.png")}
    assert sizes == {(44, 60), (36, 52)}
    if layout == "kitti":
        kitti = sorted(p.relative_to(single) for p in (single / "labels").rglob("*.txt"))
        assert kitti and kitti == sorted(p.relative_to(shards) for p in (shards / "labels").rglob("*.txt"))
        assert all((single / k).read_text() == (shards / k).read_text() for k in kitti)


def test_translate_a_coco_source_with_a_class_map(setup, tmp_path):
    from tests.data.test_coco_yolo import _coco

    src = _coco(tmp_path / "coco")
    (tmp_path / "map.yaml").write_text("zebra: truck\n")
    res = runner.invoke(app, ["translate", str(src), str(tmp_path / "out"), "--checkpoint", str(setup / "c.pt"),
                              "--class-map", str(tmp_path / "map.yaml"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "translated 2 frames" in res.output and "dropped 1 label(s), frames kept: box with no area" in res.output
    ps = read_polarset(tmp_path / "out")
    a = next(f for f in ps.frames("val") if f.stem == "a")
    assert [(b.cls, b.ignore) for b in a.boxes] == [("car", False), ("pedestrian", True), ("truck", False)]
    assert ps.manifest["provenance"]["dropped_boxes"] == {"box with no area inside the image": 1}


def test_frames_of_the_same_name_in_two_splits_keep_their_own_labels(setup, tmp_path):
    """KITTI's training/ and testing/ both hold 000000.png: neither may overwrite the other's record."""
    from tests.data.fixtures import make_kitti

    root = make_kitti(tmp_path / "k")
    test_images = root / "testing" / "image_2"
    test_images.mkdir(parents=True)
    import shutil

    for p in (root / "training" / "image_2").glob("*.png"):
        shutil.copy(p, test_images / p.name)
    res = runner.invoke(app, ["translate", str(root), str(tmp_path / "out"), "--checkpoint", str(setup / "c.pt"),
                              "--workers", "1"])
    assert res.exit_code == 0, res.output
    ps = read_polarset(tmp_path / "out")
    assert ps.manifest["splits"] == {"train": 2, "test": 2}
    assert sum(len(f.boxes) for f in ps.frames("train")) > 0 and all(not f.boxes for f in ps.frames("test"))


def test_manual_shards_merge_every_shards_unreadable_frames(setup, tmp_path):
    import shutil

    src = tmp_path / "bdd"
    shutil.copytree(setup / "bdd", src)
    victims = sorted((src / "images" / "100k" / "train").glob("*.jpg"))[:2]
    for v in victims:
        v.write_bytes(v.read_bytes()[:100])
    args = ["translate", str(src), "--checkpoint", str(setup / "c.pt"), "--batch", "1", "--workers", "1"]
    assert runner.invoke(app, [args[0], args[1], str(tmp_path / "single"), *args[2:]]).exit_code == 0
    for i in (0, 1):
        assert runner.invoke(app, [args[0], args[1], str(tmp_path / "shards"), *args[2:], "--shard",
                                   f"{i}/2"]).exit_code == 0
    one = read_polarset(tmp_path / "single").manifest["provenance"]["unreadable"]
    both = read_polarset(tmp_path / "shards").manifest["provenance"]["unreadable"]
    assert len(one) == 2 and both == one


# --- choosing frames by attribute -------------------------------------------------------------------------------

def test_where_and_limit_translate_only_the_chosen_frames_and_record_the_filter(setup, tmp_path):
    from polaraug.data.sources import source_frames

    frames = list(source_frames(setup / "bdd"))
    weathers = sorted({f.weather for f in frames})
    pick = weathers[0]
    expected = sorted(f.flat_stem for f in frames if f.weather == pick)
    res = _run(setup, tmp_path / "w", "--where", f"weather={pick}")
    assert res.exit_code == 0, res.output
    assert f"selected {len(expected)} of {len(frames)} frames (weather in {pick}: {len(expected)})" in res.output
    ps = read_polarset(tmp_path / "w")
    assert _stems(tmp_path / "w") == expected and all(f.weather == pick for s in ps.splits for f in ps.frames(s))
    selection = ps.manifest["provenance"]["selection"]
    assert selection["where"] == {"weather": [pick]} and selection["of"] == 6 and selection["selected"] == len(expected)

    res = _run(setup, tmp_path / "l", "--limit", "2", "--seed", "3")
    assert res.exit_code == 0, res.output
    first = _stems(tmp_path / "l")
    assert len(first) == 2
    res = _run(setup, tmp_path / "l2", "--limit", "2", "--seed", "3")  # the draw is the seed's
    assert _stems(tmp_path / "l2") == first
    res = _run(setup, tmp_path / "l", "--limit", "3")  # a resume with another filter would mix two sets
    assert res.exit_code == 2 and "selection" in res.output


def test_where_is_refused_for_sources_without_attributes_and_bad_clauses(setup, tmp_path):
    from tests.data.fixtures import make_kitti

    kitti = make_kitti(tmp_path / "k")
    res = runner.invoke(app, ["translate", str(kitti), str(tmp_path / "o"), "--checkpoint", str(setup / "c.pt"),
                              "--where", "weather=rainy"])
    assert res.exit_code == 2 and "only BDD100K labels carry" in res.output and "kitti" in res.output
    assert not (tmp_path / "o" / "manifest.json").exists()
    for clause, message in (("weather", "expected ATTRIBUTE=VALUE"), ("colour=red", "unknown attribute 'colour'"),
                            ("weather=", "expected ATTRIBUTE=VALUE")):
        res = _run(setup, tmp_path / "x", "--where", clause)
        assert res.exit_code == 2 and message in res.output, res.output
    res = _run(setup, tmp_path / "x", "--where", "weather=rainy", "--where", "weather=foggy")
    assert res.exit_code == 2 and "given twice" in res.output


def test_coverage_shows_what_each_set_has_side_by_side(setup, tmp_path):
    import json

    from polaraug.data.sources import source_frames

    res = _run(setup, tmp_path / "t")
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["coverage", str(setup / "bdd"), str(tmp_path / "t"), "--plot", str(tmp_path / "c.png"),
                              "--json", str(tmp_path / "c.json")])
    assert res.exit_code == 0, res.output
    counts = json.loads((tmp_path / "c.json").read_text())
    frames = list(source_frames(setup / "bdd"))
    expected = {w: sum(f.weather == w for f in frames) for w in {f.weather for f in frames}}
    assert counts["weather"]["bdd"] == expected == counts["weather"]["t"]  # a translation keeps its source's
    assert "| weather | bdd | t |" in res.output and (tmp_path / "c.png").stat().st_size > 1000
    kitti_only = runner.invoke(app, ["coverage", str(tmp_path / "t"), str(_kitti(tmp_path))])
    assert kitti_only.exit_code == 0 and "unknown" in kitti_only.output


def _kitti(tmp_path):
    from tests.data.fixtures import make_kitti

    return make_kitti(tmp_path / "kk")


def _stems(root):
    ps = read_polarset(root)
    return sorted(f.flat_stem for s in ps.splits for f in ps.frames(s))


# --- the target camera's sensor after the generator ---------------------------------------------------------------

def _sensor_camera(tmp_path, **sensor):
    import yaml

    data = {"schema": "polaraug-camera/1", "name": "noisy", "angles_deg": [0, 45, 90, 135], "gains": [1, 1, 1, 1],
            "extinction_ratios": [".inf"] * 4, "dofp_pattern": [[90, 45], [135, 0]], "bit_depth": 12,
            "sensor": {"noise_a": 0.002, "noise_b": 1.0e-4, **sensor}}
    text = yaml.safe_dump(data).replace("'.inf'", ".inf")
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "noisy.yaml"
    path.write_text(text)
    return path


def test_translate_writes_through_the_target_cameras_sensor_reproducibly(setup, tmp_path):
    import numpy as np

    from polaraug.io.images import read_image

    quiet = _sensor_camera(tmp_path / "q", noise_a=0.0, noise_b=0.0)  # the same mosaic and depth, no noise
    cam = _sensor_camera(tmp_path)
    assert _run(setup, tmp_path / "clean", "--calibration", str(quiet)).exit_code == 0
    assert _run(setup, tmp_path / "plain", "--calibration", str(cam), "--no-sensor").exit_code == 0
    res = _run(setup, tmp_path / "noisy", "--calibration", str(cam))
    assert res.exit_code == 0, res.output and "sensor model" in res.output
    clean = sorted((tmp_path / "clean" / "images").rglob("*.png"))
    noisy = sorted((tmp_path / "noisy" / "images").rglob("*.png"))
    diff = np.concatenate([(read_image(b).astype(np.float64) - read_image(a)).ravel() / 4095  # the camera's 12 bits
                           for a, b in zip(clean, noisy, strict=True)])
    assert 0.005 < diff.std() < 0.05  # noise of variance 2e-3 x + 1e-4, less after demosaicing and clipping
    sensor = read_polarset(tmp_path / "noisy").manifest["provenance"]["sensor"]
    assert sensor["noise_b"] == [1.0e-4] * 4 and sensor["bits"] == 12 and sensor["seed"] == 0
    assert "sensor" not in read_polarset(tmp_path / "plain").manifest["provenance"]
    assert _digest(tmp_path / "plain") != _digest(tmp_path / "clean")  # the mosaic alone changes the frames
    # each frame draws its own stream: a rerun, or a resume that writes only some frames, gives the same bytes
    first = _digest(tmp_path / "noisy")
    assert _run(setup, tmp_path / "again", "--calibration", str(cam)).exit_code == 0
    assert _digest(tmp_path / "again") == first
    noisy[3].unlink()
    assert _run(setup, tmp_path / "noisy", "--calibration", str(cam)).exit_code == 0
    assert _digest(tmp_path / "noisy") == first
    assert _run(setup, tmp_path / "seed1", "--calibration", str(cam), "--seed", "1").exit_code == 0
    assert _digest(tmp_path / "seed1") != _digest(tmp_path / "noisy")
    res = _run(setup, tmp_path / "noisy", "--calibration", str(cam), "--no-sensor")  # would mix two sets
    assert res.exit_code == 2 and "sensor" in res.output


def test_translate_says_what_it_will_write_and_refuses_a_disk_too_small(setup, tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    res = _run(setup, tmp_path / "ok")
    assert res.exit_code == 0, res.output
    # 6 frames of 60x44 at the default depth (the checkpoint's camera declares none: 8 bits), measured PNG sizes
    from polaraug.translate.precision import BYTES_PER_PIXEL

    need = 6 * round(60 * 44 * BYTES_PER_PIXEL[8])
    assert f"6 frames to translate (0 already done); about {need / 1e9:.2f} GB on disk (8-bit PNGs)" in res.output
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    res = _run(setup, tmp_path / "full")
    assert res.exit_code == 2 and "need about" in res.output and "--no-space-check" in res.output
    assert not list((tmp_path / "full").rglob("*.png"))  # nothing written
    res = _run(setup, tmp_path / "full", "--no-space-check")
    assert res.exit_code == 0 and len(list((tmp_path / "full" / "images").rglob("*.png"))) == 6


def test_writes_keep_up_with_a_fast_forward(setup, tmp_path, monkeypatch):
    """A forward faster than the writers (a GPU) waits for them instead of queueing every frame in memory."""
    import time

    from polaraug.cameras import load_camera
    from polaraug.translate import dataset
    from polaraug.translate.checkpoint import load_translator

    src, ckpt = tmp_path / "bdd", setup / "c.pt"
    generate(SynthConfig(n=14, width=32, height=24, seed=9, mode="rgb", val_fraction=0.0), src, workers=1,
             progress=False)
    encoded, seen = [], []
    slow = dataset._Job.encode

    def encode(self, frame, y):
        time.sleep(0.05)
        slow(self, frame, y)
        encoded.append(frame)

    real_batch = dataset.translate_batch

    def forward(model, x, *averaging):
        seen.append(len(encoded))
        return real_batch(model, x, *averaging)

    monkeypatch.setattr(dataset._Job, "encode", encode)
    monkeypatch.setattr(dataset, "translate_batch", forward)
    model, _ = load_translator(ckpt)
    dataset.translate_dataset(src, tmp_path / "out", model, ckpt, load_camera("ideal"), batch=1,
                              workers=1, progress=False)
    assert len(encoded) == len(seen) == 14
    # before batch i, at most 4 * workers + 1 translated frames are still waiting to be written
    assert all(done >= i - 5 for i, done in enumerate(seen)), seen
