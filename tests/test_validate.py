import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.data.polarset import read_polarset
from polaraug.io.images import read_image, write_image
from polaraug.physics.quantize import check_quantized
from polaraug.synth.generate import SynthConfig, generate

runner = CliRunner()


@pytest.fixture(scope="module")
def clean_set(tmp_path_factory):
    root = tmp_path_factory.mktemp("v") / "set"
    generate(SynthConfig(n=6, width=64, height=48, seed=4, mode="polar"), root, workers=1, progress=False)
    return root


def _plant(root, n=2):
    """Make pixels inadmissible: (I0, I45, I90, I135) = (max, max, 0, 0) has DoLP √2."""
    paths = sorted((root / "images").rglob("*.png"))[:n]
    for p in paths:
        img = read_image(p)
        img[5:9, 5:9] = [65535, 65535, 0, 0]
        write_image(p, img)
    return paths


def test_clean_set_passes_and_reports_json(clean_set, tmp_path):
    res = runner.invoke(app, ["validate", str(clean_set), "--max-inadmissible", "0", "--max-residual", "1e-3",
                              "--json", str(tmp_path / "r.json"), "--plots", str(tmp_path / "plots"), "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "PASS" in res.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["layout"] == "polaraug" and report["aggregate"]["frames"] == 6 and len(report["frames"]) == 6
    assert report["aggregate"]["inadmissible_fraction"] == 0
    assert (tmp_path / "plots" / "histograms.png").is_file() and (tmp_path / "plots" / "worst_1.png").is_file()


def test_planted_inadmissible_pixels_fail_then_pass_after_fix(clean_set, tmp_path):
    root = tmp_path / "set"
    shutil.copytree(clean_set, root)
    planted = _plant(root)
    res = runner.invoke(app, ["validate", str(root), "--max-inadmissible", "0", "--workers", "2"])
    assert res.exit_code == 1 and "FAIL max-inadmissible" in res.output
    assert "2 frames affected" in res.output
    # Into a new folder: the source stays as it was.
    before = planted[0].read_bytes()
    res = runner.invoke(app, ["validate", str(root), "--fix", "--out", str(tmp_path / "fixed"), "--max-inadmissible",
                              "0", "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "fixed 2 frames" in res.output and planted[0].read_bytes() == before
    fixed_set = read_polarset(tmp_path / "fixed")
    for split in fixed_set.splits:
        for f in fixed_set.frames(split):
            assert check_quantized(read_image(f.image), fixed_set.camera.matrix()) == 0
    # In place.
    res = runner.invoke(app, ["validate", str(root), "--fix", "--max-inadmissible", "0", "--workers", "1"])
    assert res.exit_code == 0 and "in place" in res.output
    unchanged = sorted((root / "images").rglob("*.png"))[-1]
    assert unchanged.read_bytes() == (clean_set / unchanged.relative_to(root)).read_bytes()


def test_other_layouts_and_unreadable_frames(tmp_path, clean_set):
    frames = sorted((clean_set / "images").rglob("*.png"))[:3]
    for i, p in enumerate(frames):
        img = read_image(p)
        for k, a in enumerate((0, 45, 90, 135)):
            write_image(tmp_path / "angles" / str(a) / f"f{i}.png", np.ascontiguousarray(img[..., k]))
    (tmp_path / "angles" / "0" / "f1.png").write_bytes(b"\x89PNG broken")
    res = runner.invoke(app, ["validate", str(tmp_path / "angles"), "--max-unreadable", "0", "--workers", "1"])
    assert res.exit_code == 1 and "angle-folders" in res.output and "f1.png" in res.output
    raw = tmp_path / "raw"
    write_image(raw / "m.png", np.zeros((8, 8), np.uint8))
    res = runner.invoke(app, ["validate", str(raw)])
    assert res.exit_code == 2 and "--calibration" in res.output
    res = runner.invoke(app, ["validate", str(raw), "--calibration", "sony_imx250mzr", "--workers", "1"])
    assert res.exit_code == 0 and "dofp" in res.output


def test_frame_statistics_match_the_physics_functions():
    from polaraug.cameras import Camera
    from polaraug.physics import analyze, calibration_residual
    from polaraug.validate import frame_report

    cam = Camera(name="x", angles_deg=(1, 44, 91, 134), gains=(1.02, 0.98, 1, 0.99),
                 extinction_ratios=(100, 80, 120, 90))
    raw = (np.random.default_rng(0).random((20, 30, 4)) * 65535).astype(np.uint16)
    raw[0, 0] = 65535
    raw[1, 1, 2] = 0
    rep = frame_report("x", raw, cam)
    y = raw.astype(np.float32) / 65535
    r = np.linalg.norm(calibration_residual(y, cam.matrix()), axis=-1)
    m = analyze(y, cam.matrix())
    assert rep.residual_max == pytest.approx(float(r.max()), rel=1e-5)
    assert rep.residual_rms == pytest.approx(float(np.sqrt((r**2).mean())), rel=1e-5)
    assert rep.inadmissible_fraction == pytest.approx(m.inadmissible_fraction)
    assert rep.saturated_fraction == pytest.approx(1 / 600) and rep.zero_fraction >= 1 / 600
    assert sum(rep.dolp_hist) == 600


def test_the_one_pass_kernel_bins_exact_edges_as_the_array_path_does(monkeypatch):
    """Low-count ideal-camera data put many pixels exactly on bin edges (AoLP 0° and 90°, DoLP 0.5, ...)."""
    from polaraug.cameras import Camera
    from polaraug.validate import stats
    from polaraug.validate.stats import frame_report

    cam = Camera(name="ideal8", bit_depth=8)
    raw = np.random.default_rng(1).integers(0, 6, (120, 130, 4)).astype(np.uint8)
    raw[:10, :, 1] = raw[:10, :, 3]  # I45 = I135: AoLP exactly 0° or 90°
    raw[10:20, :, 0] = raw[10:20, :, 2]  # I0 = I90: AoLP exactly 45° or 135°
    fused = frame_report("f", raw, cam)
    monkeypatch.setattr(stats, "_fusable", lambda raw, camera: False)
    ref = frame_report("f", raw, cam)
    assert fused.dolp_hist == ref.dolp_hist and fused.aolp_hist == ref.aolp_hist
    assert fused.inadmissible_fraction == ref.inadmissible_fraction and fused.zero_fraction == ref.zero_fraction


@pytest.mark.parametrize(("dtype", "bits"), [(np.uint16, 16), (np.uint16, 12), (np.uint8, 8)])
def test_the_one_pass_kernel_reports_what_the_array_path_does(dtype, bits, monkeypatch):
    import dataclasses

    from polaraug.cameras import Camera
    from polaraug.validate import stats
    from polaraug.validate.stats import frame_report

    cam = Camera(name="x", angles_deg=(1, 44, 91, 134), gains=(1.02, 0.98, 1, 0.99),
                 extinction_ratios=(100, 80, 120, 90), bit_depth=bits)
    top = 2**bits - 1
    rng = np.random.default_rng(bits)
    raw = (rng.random((60, 70, 4)) * top).astype(dtype)  # random intensities: many inadmissible pixels
    raw[0, 0] = top
    raw[1, 1, 2] = 0
    raw[2, 2] = 0
    fusable = stats._fusable
    assert fusable(raw, cam) and not fusable(raw, dataclasses.replace(cam, gain_map="g.npy"))
    assert not fusable(raw[..., :3], cam) and not fusable(raw.astype(np.float32), cam)
    fused = frame_report("f", raw, cam)
    monkeypatch.setattr(stats, "_fusable", lambda raw, camera: False)
    ref = frame_report("f", raw, cam)
    for key in ("pixels", "inadmissible_fraction", "dolp_above_1_fraction", "saturated_fraction", "zero_fraction",
                "dolp_hist"):
        assert getattr(fused, key) == getattr(ref, key), key
    for key in ("residual_rms", "residual_max", "dolp_mean"):
        assert getattr(fused, key) == pytest.approx(getattr(ref, key), rel=1e-5), key
    # AoLP bins from a polynomial atan2 (1e-5 rad): only pixels at a bin edge may move, by their weight
    assert np.abs(np.subtract(fused.aolp_hist, ref.aolp_hist)).sum() <= 2
    assert 0 < fused.inadmissible_fraction < 1 and fused.saturated_fraction > 0
    if bits == 12:  # a 16-bit value in a 12-bit camera's file is refused, as by the array path
        raw[3, 3, 0] = 5000
        monkeypatch.setattr(stats, "_fusable", lambda raw, camera: True)
        with pytest.raises(ValueError, match="exceed the camera's 12-bit range"):
            frame_report("f", raw, cam)


def test_repair_reconstruct_rebuilds_flagged_pixels_and_keeps_the_rest(clean_set, tmp_path):
    from polaraug.reconstruct.config import ReconstructConfig
    from polaraug.reconstruct.data import Crops
    from polaraug.reconstruct.train import train
    from polaraug.validate import flagged_pixels

    cam = read_polarset(clean_set).camera
    cfg = ReconstructConfig(channels=4, ngf=8, n_blocks=1, ndf=8, crop=32, density=0.5)
    ckpt = train(Crops.from_folder(clean_set, cam, cfg), tmp_path / "run", cfg, steps=3, progress=False).checkpoint
    root = tmp_path / "set"
    shutil.copytree(clean_set, root)
    planted = _plant(root, n=1)[0]
    img = read_image(planted)
    img[20, 30] = [0, 0, 0, 0]  # a dead pixel
    write_image(planted, img)
    flagged = flagged_pixels(img, cam)
    assert flagged[5:9, 5:9].all() and flagged[20, 30]

    res = runner.invoke(app, ["validate", str(root), "--repair", "reconstruct", "--out", str(tmp_path / "rep"),
                              "--workers", "1"])
    assert res.exit_code == 2 and "--checkpoint" in res.output
    res = runner.invoke(app, ["validate", str(root), "--repair", "reconstruct", "--checkpoint", str(ckpt),
                              "--out", str(tmp_path / "rep"), "--max-inadmissible", "0", "--workers", "1"])
    assert res.exit_code == 0, res.output
    rebuilt = read_image(tmp_path / "rep" / planted.relative_to(root))
    assert np.array_equal(rebuilt[~flagged], img[~flagged])  # every known pixel kept exactly
    assert not np.array_equal(rebuilt[5:9, 5:9], img[5:9, 5:9]) and rebuilt[20, 30].any()
    assert check_quantized(rebuilt, cam.matrix(np.float64)) == 0
    # A model of another camera is refused before any frame is touched.
    before = planted.read_bytes()
    (tmp_path / "other.yaml").write_text("name: other\nangles_deg: [0, 45, 90, 135]\ngains: [1.1, 1, 1, 1]\n"
                                         "extinction_ratios: [.inf, .inf, .inf, .inf]\n")
    res = runner.invoke(app, ["validate", str(root), "--repair", "reconstruct", "--checkpoint", str(ckpt),
                              "--calibration", str(tmp_path / "other.yaml"), "--workers", "1"])
    assert res.exit_code == 2 and "trained for another camera" in res.output and planted.read_bytes() == before


def test_raw_dofp_sets_are_not_repaired(tmp_path):
    from polaraug.physics import mosaic

    raw = tmp_path / "raw"
    y = np.full((8, 8, 4), 0.3)
    y[..., 0] = 0.9  # inadmissible everywhere: a repair would be wanted
    write_image(raw / "m.png", np.round(mosaic(y, [[90, 45], [135, 0]]) * 255).astype(np.uint8))
    before = (raw / "m.png").read_bytes()
    res = runner.invoke(app, ["validate", str(raw), "--calibration", "sony_imx250mzr", "--fix", "--workers", "1"])
    assert res.exit_code == 2 and "raw DoFP mosaics cannot be repaired" in res.output
    assert (raw / "m.png").read_bytes() == before


def test_dark_pixels_are_not_dead_unless_every_channel_is_zero(clean_set):
    from polaraug.validate import flagged_pixels

    cam = read_polarset(clean_set).camera
    img = np.full((4, 4, 4), 1000, np.uint16)
    img[0, 0] = [0, 500, 1000, 500]  # fully polarized along 90°: I0 = 0 is a real value
    img[1, 1] = [0, 0, 0, 0]  # dead
    flagged = flagged_pixels(img, cam)
    assert not flagged[0, 0] and flagged[1, 1] and flagged.sum() == 1


def _stack(root):
    """{relative frame key: (H, W, 4) stored image} of a polaraug, four-channel or angle-folders set."""
    angles = root / "0"
    if angles.is_dir():
        return {p.name: np.stack([read_image(root / a / p.name) for a in ("0", "45", "90", "135")], axis=-1)
                for p in sorted(angles.glob("*.png"))}
    return {str(p.relative_to(root)): read_image(p) for p in sorted(root.rglob("*.png")) if "yolo" not in p.parts}


@pytest.mark.parametrize(("layout", "synth_args"), [
    ("polaraug", []),                                        # 16-bit, ideal camera
    ("polaraug", ["--bits", "8"]),                           # 8-bit
    ("polaraug", ["--domain", "shifted", "--no-dofp"]),      # 12-bit in 16-bit PNGs, non-ideal camera
    ("angle-folders", []),
    ("four-channel", []),
])
def test_fix_changes_only_the_inadmissible_pixels_and_reports_them(tmp_path, layout, synth_args):
    res = runner.invoke(app, ["synth", str(tmp_path / "synth"), "-n", "3", "--size", "40x32", "--mode", "polar",
                              "--val", "0", "--workers", "1", *synth_args])
    assert res.exit_code == 0, res.output
    ps = read_polarset(tmp_path / "synth")
    top = 2 ** ps.manifest["bit_depth"] - 1
    frames = sorted((tmp_path / "synth" / "images").rglob("*.png"))
    root = tmp_path / "set"
    extra = []
    if layout == "polaraug":
        shutil.copytree(tmp_path / "synth", root)
        targets = sorted((root / "images").rglob("*.png"))[:2]
    else:
        extra = ["--calibration", "ideal"]
        for p in frames:
            img = read_image(p)
            if layout == "four-channel":
                write_image(root / p.name, img)
            else:
                for k, a in enumerate(("0", "45", "90", "135")):
                    write_image(root / a / p.name, np.ascontiguousarray(img[..., k]))
        targets = sorted(root.glob("*.png") if layout == "four-channel" else (root / "0").glob("*.png"))[:2]
    before = _stack(root)
    for p in targets:  # plant a 3x3 block with DoLP √2 into two frames
        if layout == "angle-folders":
            for a, v in (("0", top), ("45", top), ("90", 0), ("135", 0)):
                img = read_image(root / a / p.name)
                img[4:7, 4:7] = v
                write_image(root / a / p.name, img)
        else:
            img = read_image(p)
            img[4:7, 4:7] = [top, top, 0, 0]
            write_image(p, img)
    planted = _stack(root)
    res = runner.invoke(app, ["validate", str(root), "--fix", "--out", str(tmp_path / "fixed"), "--max-inadmissible",
                              "0", "--workers", "1", "--json", str(tmp_path / "r.json"), *extra])
    assert res.exit_code == 0, res.output
    assert "fixed 2 frames (18 pixels changed" in res.output
    repair = json.loads((tmp_path / "r.json").read_text())["repair"]
    assert repair["changed_pixels"] == 18 and sorted(repair["changed_pixels_per_frame"].values()) == [9, 9]
    after = _stack(tmp_path / "fixed")
    assert set(after) == set(before)
    block = np.zeros(after[next(iter(after))].shape[:2], bool)
    block[4:7, 4:7] = True
    for key, img in after.items():
        changed = (img != planted[key]).any(axis=-1)
        was_planted = (planted[key] != before[key]).any()
        if was_planted:
            assert np.array_equal(changed, block), key  # every planted pixel repaired, nothing else touched
        else:
            assert not changed.any(), key


def test_unreadable_frames_fail_unless_skipped_and_a_set_without_readable_frames_is_an_error(clean_set, tmp_path):
    root = tmp_path / "set"
    shutil.copytree(clean_set, root)
    frames = sorted((root / "images").rglob("*.png"))
    frames[0].write_bytes(b"\x89PNG broken")
    res = runner.invoke(app, ["validate", str(root), "--workers", "1"])
    assert res.exit_code == 1 and "max-unreadable: 1 > 0" in res.output and "--skip-bad" in res.output
    res = runner.invoke(app, ["validate", str(root), "--workers", "1", "--skip-bad"])
    assert res.exit_code == 0 and "done" in res.output
    res = runner.invoke(app, ["validate", str(root), "--workers", "1", "--max-unreadable", "1"])
    assert res.exit_code == 0 and "PASS" in res.output

    for p in frames:
        p.write_bytes(b"\x89PNG broken")
    for extra in ([], ["--skip-bad"]):
        res = runner.invoke(app, ["validate", str(root), "--workers", "1", *extra])
        assert res.exit_code == 2 and "no readable frame (6 unreadable" in res.output, res.output


def test_a_per_angle_repair_is_all_or_nothing(tmp_path, monkeypatch):
    """A crash part-way through a per-angle frame's four writes never leaves a mixed frame."""
    import os

    from polaraug.data import polarset
    from polaraug.data.polarset import finish_interrupted_writes, write_frame

    dest = [tmp_path / a / "f.png" for a in ("0", "45", "90", "135")]
    old = np.full((4, 5, 4), 7, np.uint16)
    new = np.full((4, 5, 4), 9, np.uint16)
    write_frame(dest, old)

    def stack():
        return np.stack([read_image(p) for p in dest], axis=-1)

    calls = []

    def crash_after_first(src, dst):
        calls.append(dst)
        if len(calls) > 1:
            raise KeyboardInterrupt("power cut")
        os.replace(src, dst)

    monkeypatch.setattr(polarset, "_commit_rename", crash_after_first)  # crash after the commit point
    with pytest.raises(KeyboardInterrupt):
        write_frame(dest, new)
    monkeypatch.undo()
    assert (stack() == 9).any() and (stack() == 7).any()  # mixed on disk until the roll-forward
    assert finish_interrupted_writes(tmp_path) == 1
    assert (stack() == 9).all() and not list(tmp_path.rglob(".*"))

    def crash_in_journal(*_a, **_k):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(polarset, "write_text", crash_in_journal)  # crash before the commit point
    with pytest.raises(KeyboardInterrupt):
        write_frame(dest, old)
    monkeypatch.undo()
    assert finish_interrupted_writes(tmp_path) == 0
    assert (stack() == 9).all() and not list(tmp_path.rglob(".*"))  # the frame as it was, temporaries gone


def test_an_interrupted_per_angle_write_is_finished_from_any_working_directory(tmp_path, monkeypatch):
    import os

    from polaraug.data import polarset
    from polaraug.data.polarset import finish_interrupted_writes, write_frame

    monkeypatch.chdir(tmp_path)
    dest = [tmp_path / a / "f.png" for a in ("0", "45", "90", "135")]
    rel = [p.relative_to(tmp_path) for p in dest]  # the set given as a relative path
    write_frame(rel, np.full((3, 3, 4), 7, np.uint8))
    calls = []

    def crash_after_two(src, dst):
        calls.append(dst)
        if len(calls) > 2:
            raise KeyboardInterrupt("power cut")
        os.replace(src, dst)

    monkeypatch.setattr(polarset, "_commit_rename", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        write_frame(rel, np.full((3, 3, 4), 9, np.uint8))
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path / "0")  # a later run from elsewhere
    assert finish_interrupted_writes(tmp_path) == 1
    assert all((read_image(p) == 9).all() for p in dest)


def test_sets_read_through_a_gain_map_are_not_repaired_and_written_sets_drop_it(clean_set, tmp_path):
    from polaraug.cameras import load_camera

    np.save(tmp_path / "g.npy", np.ones((48, 64, 4), np.float32))
    (tmp_path / "cam.yaml").write_text("name: flat\nangles_deg: [0, 45, 90, 135]\ngains: [1, 1, 1, 1]\n"
                                       "extinction_ratios: [.inf, .inf, .inf, .inf]\ngain_map: g.npy\n")
    root = tmp_path / "set"
    shutil.copytree(clean_set, root)
    _plant(root, n=1)
    res = runner.invoke(app, ["validate", str(root), "--fix", "--calibration", str(tmp_path / "cam.yaml"),
                              "--workers", "1"])
    assert res.exit_code == 2 and "has a gain map" in res.output
    from polaraug.data.polarset import PolarSetWriter

    writer = PolarSetWriter(tmp_path / "written", load_camera(tmp_path / "cam.yaml"))
    writer.close()
    assert "gain_map" not in read_polarset(tmp_path / "written").manifest["camera"]


def test_per_angle_sets_with_a_corrupt_first_file_are_still_checked(clean_set, tmp_path):
    frames = sorted((clean_set / "images").rglob("*.png"))[:2]
    for i, p in enumerate(frames):
        img = read_image(p)
        for k, a in enumerate((0, 45, 90, 135)):
            write_image(tmp_path / "pa" / f"f{i}_{a}.png", np.ascontiguousarray(img[..., k]))
    (tmp_path / "pa" / "f0_0.png").write_bytes(b"\x89PNG broken")
    res = runner.invoke(app, ["validate", str(tmp_path / "pa"), "--skip-bad", "--workers", "1"])
    assert res.exit_code == 0 and "angle-suffix" in res.output and "f0" in res.output


@pytest.mark.parametrize("layout", ["polaraug", "angle-folders"])
def test_fix_rewrites_shifted_up_frames_as_they_were_stored(tmp_path, layout):
    # translate writes 10/12-bit frames shifted to the top of 16-bit PNGs with sBIT and polaraug's marker; a
    # repaired frame must keep that form (other programs would see it 16x darker than its neighbours)
    from polaraug.io.significant import shifted_bits

    res = runner.invoke(app, ["synth", str(tmp_path / "set"), "-n", "2", "--size", "40x32", "--mode", "polar",
                              "--val", "0", "--workers", "1", "--domain", "shifted", "--no-dofp"])
    assert res.exit_code == 0, res.output
    root, extra = tmp_path / "set", []
    frames = sorted((root / "images").rglob("*.png"))
    if layout == "angle-folders":
        root, extra = tmp_path / "angles", ["--calibration", "shifted_dofp"]
    for p in frames:
        img = read_image(p)
        img[4:7, 4:7] = [4095, 4095, 0, 0]  # DoLP √2 at 12 bits
        if layout == "polaraug":
            write_image(p, img, bits=12)
        else:
            for k, a in enumerate(("0", "45", "90", "135")):
                write_image(root / a / p.name, np.ascontiguousarray(img[..., k]), bits=12)
    planted = _stack(root)
    res = runner.invoke(app, ["validate", str(root), "--fix", "--max-inadmissible", "0", "--workers", "1", *extra])
    assert res.exit_code == 0, res.output
    after = _stack(root)
    written = sorted(root.rglob("*.png"))
    assert written and all(shifted_bits(p) == 12 for p in written)
    for key, img in after.items():
        changed = (img != planted[key]).any(axis=-1)
        assert changed[4:7, 4:7].all() and changed.sum() == 9, key  # repaired, read back at 12 bits
        assert img.max() <= 4095, key
