"""End-to-end checks of the command line on data the tests render themselves."""

import json
import math

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from polaraug.cameras import load_camera
from polaraug.cli import app
from polaraug.io.images import read_image, write_image
from polaraug.physics import camera_matrix, intensities_from_stokes, mosaic
from polaraug.synth import polarized_test_pattern
from polaraug.synth.pattern import SHEET_AOLPS_DEG

runner = CliRunner()
SONY = [[90, 45], [135, 0]]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def sheet_centres(h, w):
    cy, cx, r = h / 2, w / 2, 0.32 * min(h, w)
    for k, a in enumerate(SHEET_AOLPS_DEG):
        ang = 2 * math.pi * k / len(SHEET_AOLPS_DEG)
        yield int(round(cy - r * math.sin(ang))), int(round(cx + r * math.cos(ang))), math.radians(a)


def assert_sheet_aolps(aolp, tol_deg=1.0):
    for y, x, expected in sheet_centres(*aolp.shape):
        got = np.median(aolp[y - 3:y + 4, x - 3:x + 4])
        err = (got - expected + math.pi / 2) % math.pi - math.pi / 2
        assert abs(math.degrees(err)) < tol_deg, (y, x, math.degrees(got), math.degrees(expected))


def test_inspect_example_end_to_end(tmp_path):
    res = run("inspect", "--example", "--out", tmp_path)
    assert res.exit_code == 0, res.output
    assert "inadmissible pixels" in res.output
    for name in ("s0", "s1", "s2", "dolp", "aolp"):
        assert read_image(tmp_path / f"{name}.tiff").dtype == np.float32
    for name in ("s0", "s1", "s2", "dolp", "aolp", "aolp_dolp"):
        assert read_image(tmp_path / f"{name}.png").shape[2] == 3
    assert_sheet_aolps(read_image(tmp_path / "aolp.tiff"))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["kind"] == "dofp" and summary["camera"] == "sony_imx250mzr"
    assert summary["inadmissible_fraction"] < 0.01  # 8-bit quantisation of an admissible scene
    assert 0.05 < summary["mean_dolp"] < 0.8


def test_inspect_four_channel_16bit_png_keeps_channel_order(tmp_path):
    y = intensities_from_stokes(polarized_test_pattern(120, 160, blur_px=0), camera_matrix())
    write_image(tmp_path / "cap.png", np.round(y * 65535).astype(np.uint16))
    res = run("inspect", tmp_path / "cap.png", "--out", tmp_path / "o", "--format", "npy")
    assert res.exit_code == 0, res.output
    assert_sheet_aolps(np.load(tmp_path / "o" / "aolp.npy"), tol_deg=0.1)


def test_inspect_errors_name_the_file(tmp_path):
    write_image(tmp_path / "raw.png", np.zeros((8, 8), np.uint8))
    res = run("inspect", tmp_path / "raw.png", "--out", tmp_path / "o")
    assert res.exit_code == 2
    assert "raw.png" in res.output and "dofp_pattern" in res.output
    write_image(tmp_path / "rgb.png", np.zeros((8, 8, 3), np.uint8))
    res = run("inspect", tmp_path / "rgb.png", "--out", tmp_path / "o")
    assert res.exit_code == 2 and "RGB" in res.output
    (tmp_path / "cam.yaml").write_text(yaml.safe_dump({"name": "x", "angles_deg": [0, 45, 90, 135]}))
    res = run("inspect", tmp_path / "raw.png", "--calibration", tmp_path / "cam.yaml", "--out", tmp_path / "o")
    assert res.exit_code == 2 and "cam.yaml: field 'gains' is missing" in res.output


def test_calibrate_polarizer_recovers_the_camera(tmp_path):
    angles, gains, ers = [0.8, 45.5, 89.2, 135.6], [1.03, 0.98, 1.01, 0.98], [80.0, 120.0, 100.0, 60.0]
    a = camera_matrix(angles, gains, ers, np.float64)
    files, alphas = [], list(range(0, 180, 20))
    for k, alpha in enumerate(alphas):
        t = math.radians(alpha)
        y = np.broadcast_to(0.7 * np.array([1, math.cos(2 * t), math.sin(2 * t)]) @ a.T, (40, 48, 4)).copy()
        y[:4, :4] = 1.0  # a saturated corner must be ignored
        raw = mosaic(np.round(y * 4095).astype(np.uint16), SONY)
        files.append(write_image(tmp_path / f"pol_{k}.tiff", raw))
    cam_file = tmp_path / "base.yaml"
    cam_file.write_text(yaml.safe_dump({"name": "base", "angles_deg": [0, 45, 90, 135], "gains": [1, 1, 1, 1],
                                        "extinction_ratios": [1e9] * 4, "dofp_pattern": SONY, "bit_depth": 12}))
    res = run("calibrate", "polarizer", *files, "--angles", ",".join(map(str, alphas)), "--camera", cam_file,
              "--out", tmp_path / "fitted.yaml")
    assert res.exit_code == 0, res.output
    cam = load_camera(tmp_path / "fitted.yaml")
    np.testing.assert_allclose(cam.angles_deg, angles, atol=0.05)
    np.testing.assert_allclose(cam.gains, np.array(gains) / np.mean(gains), rtol=2e-3)
    assert cam.dofp_pattern == ((90, 45), (135, 0)) and cam.bit_depth == 12
    # Extinction ratios are ill-conditioned (1 / (1 - d)); 12-bit data pins them to ~10 %.
    np.testing.assert_allclose(cam.extinction_ratios, ers, rtol=0.15)


def test_calibrate_gains_recovers_gains(tmp_path, rng):
    gains = np.array([1.05, 0.96, 1.02, 0.97])
    files = []
    for k in range(3):
        s = polarized_test_pattern(96, 128)
        y = intensities_from_stokes(s, camera_matrix(gains=gains)) + rng.normal(0, 2e-4, (96, 128, 4))
        files.append(write_image(tmp_path / f"c{k}.npy", np.clip(y, 0, 1).astype(np.float32)))
    res = run("calibrate", "gains", *files, "--out", tmp_path / "g.yaml")
    assert res.exit_code == 0, res.output
    np.testing.assert_allclose(load_camera(tmp_path / "g.yaml").gains, gains / gains.mean(), atol=3e-3)


def test_calibrate_list_and_show():
    res = run("calibrate", "list")
    assert res.exit_code == 0 and "sony_imx250mzr" in res.output and "polarcam_4d" in res.output
    res = run("calibrate", "show", "ideal")
    assert res.exit_code == 0 and "A† =" in res.output


@pytest.mark.parametrize("args", [["calibrate", "show", "nope"], ["inspect", "--out", "x"]])
def test_usage_errors_exit_2(args):
    assert run(*args).exit_code == 2


def test_a_bug_is_not_reported_as_bad_input(tmp_path, monkeypatch):
    """Only InputError (and missing files) become 'error: ...' with exit 2; a plain ValueError or IndexError
    from inside polaraug is a bug and keeps its exception and traceback (exit 1)."""
    import polaraug.data.polarset

    for bug in (ValueError("operands could not be broadcast together with shapes (4,) (3,)"), IndexError("bad")):
        def broken(root, bug=bug):
            raise bug

        monkeypatch.setattr(polaraug.data.polarset, "read_polarset", broken)
        res = run("export-yolo", tmp_path / "set", tmp_path / "out")
        assert res.exit_code == 1 and res.exit_code != 2
        assert res.exception is bug and res.exc_info[2] is not None  # the traceback is kept
        assert "error:" not in res.output


def test_input_errors_and_missing_files_are_one_line_exit_2(tmp_path, monkeypatch):
    import polaraug.data.polarset
    from polaraug.errors import InputError

    for error, text in ((InputError("set.json: bad\n  field 'x'\nis wrong"), "error: set.json: bad field 'x' is wrong"),
                        (FileNotFoundError("no such thing"), "error: no such thing"),
                        (PermissionError("not allowed"), "error: not allowed")):
        def broken(root, error=error):
            raise error

        monkeypatch.setattr(polaraug.data.polarset, "read_polarset", broken)
        res = run("export-yolo", tmp_path / "set", tmp_path / "out")
        assert res.exit_code == 2, res.output
        assert res.output.strip() == text


def test_version_flag_and_command_print_the_package_version():
    from typer.testing import CliRunner

    from polaraug import __version__
    from polaraug.cli import app

    for args in (["--version"], ["version"]):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0 and res.output.strip() == __version__
