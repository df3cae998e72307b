"""Colour polarization: per-colour Stokes of known scenes, luminance, the 4x4 colour DoFP mosaic, reading
captures, and the conversion into a paired set that train --paired accepts."""

import numpy as np
import pytest
from typer.testing import CliRunner

from polaraug.cameras import load_camera
from polaraug.cli import app
from polaraug.colour import read_colour_frame, scan_colour
from polaraug.data.polarset import read_polarset
from polaraug.io.images import ImageReadError, read_image, write_image
from polaraug.physics import camera_matrix, intensities_from_stokes, stokes_from_intensities
from polaraug.physics.colour import colour_s0, colour_stokes, demosaic_colour, mosaic_colour, pattern_cells, to_mono

MYR = load_camera("sony_imx250myr").colour_dofp_pattern
# Known Stokes per colour: R polarized at 30° (DoLP 0.6), G at 120° (DoLP 0.3), B unpolarized.
S = np.array([[0.8, 0.8 * 0.6 * np.cos(np.radians(60)), 0.8 * 0.6 * np.sin(np.radians(60))],
              [0.6, 0.6 * 0.3 * np.cos(np.radians(240)), 0.6 * 0.3 * np.sin(np.radians(240))],
              [0.4, 0.0, 0.0]])


def _scene(a, h=24, w=32):
    """(h, w, 12) colour-major intensities of S in the left half and S with R and B swapped in the right."""
    y = np.empty((h, w, 12), np.float64)
    for half, s in ((slice(0, w // 2), S), (slice(w // 2, w), S[[2, 1, 0]])):
        y[:, half] = np.concatenate([intensities_from_stokes(s[c], a) for c in range(3)])
    return y


def test_per_colour_stokes_luminance_and_s0_match_the_scene():
    a = camera_matrix(gains=[1.0, 0.9, 1.1, 1.0], extinction_ratios=[200] * 4, dtype=np.float64)
    y = _scene(a)
    np.testing.assert_allclose(colour_stokes(y, a)[0, 0], S, atol=1e-6)
    np.testing.assert_allclose(colour_s0(y, a)[0, 0], S[:, 0], atol=1e-6)
    w = np.array([0.299, 0.587, 0.114])
    mono = to_mono(y, w)  # Stokes are linear: the mono twin's Stokes is the weighted sum
    np.testing.assert_allclose(stokes_from_intensities(mono[0, 0], a), w @ S, atol=1e-6)
    with pytest.raises(ValueError, match="12 channels"):
        colour_stokes(y[..., :4], a)
    with pytest.raises(ValueError, match="non-negative"):
        to_mono(y, [1, -1, 1])


def test_colour_pattern_is_checked_and_a_mosaic_of_flat_planes_demosaics_exactly():
    assert sorted(pattern_cells(MYR).ravel().tolist()) == sorted(list(range(12)) + [4, 5, 6, 7])  # G twice
    with pytest.raises(ValueError, match="no cell for"):
        pattern_cells([["R0"] * 4] * 4)
    with pytest.raises(ValueError, match="'X0' is not a colour"):
        pattern_cells([["X0", "R45", "R90", "R135"]] + [["G0", "G45", "G90", "G135"], ["B0", "B45", "B90", "B135"],
                                                        ["G0", "G45", "G90", "G135"]])
    a = camera_matrix(dtype=np.float64)
    y = _scene(a, 40, 48)
    raw = mosaic_colour(y, MYR)
    assert raw.shape == (40, 48)
    idx = pattern_cells(MYR)
    assert raw[1, 1] == y[1, 1, idx[1, 1]] and raw[6, 3] == y[6, 3, idx[2, 3]]  # each pixel samples its cell
    rec = demosaic_colour(raw, MYR)
    # Away from the edge between the halves every plane is flat: interpolation recovers it exactly.
    np.testing.assert_allclose(rec[:, :16], y[:, :16], atol=1e-6)
    np.testing.assert_allclose(colour_stokes(rec[4:-4, 4:12], a), np.broadcast_to(S, (32, 8, 3, 3)), atol=1e-5)


def _captures(root, a, kind):
    y = _scene(a, 24, 32)
    if kind == "angles":
        for k, angle in enumerate((0, 45, 90, 135)):
            for name in ("f1", "f2"):
                rgb = y.reshape(24, 32, 3, 4)[..., k]
                write_image(root / f"{name}_{angle}.png", np.round(rgb * 65535).astype(np.uint16))
    else:
        for name in ("f1", "f2"):
            write_image(root / f"{name}.png", np.round(mosaic_colour(y, MYR) * 65535).astype(np.uint16))
    return y


@pytest.mark.parametrize("kind", ["angles", "raw"])
def test_captures_are_read_in_either_form(tmp_path, kind):
    cam = load_camera("sony_imx250myr")
    y = _captures(tmp_path, cam.matrix(np.float64), kind)
    frames = scan_colour(tmp_path)
    assert [f.name for f in frames] == ["f1", "f2"]
    got = read_colour_frame(frames[0], cam)
    assert got.shape == (24, 32, 12)
    sl = np.s_[:, :12] if kind == "raw" else np.s_[:, :]  # raw: flat region away from the edge
    np.testing.assert_allclose(got[sl], y[sl], atol=2 / 65535)
    if kind == "raw":
        with pytest.raises(ImageReadError, match="f1.png: a raw colour mosaic needs a camera with colour_dofp_pattern"):
            read_colour_frame(frames[0], load_camera("ideal"))


def test_colour_pairs_writes_a_paired_set_that_trains(tmp_path):
    a = camera_matrix(dtype=np.float64)
    _captures(tmp_path / "cap", a, "angles")
    res = CliRunner().invoke(app, ["colour-pairs", str(tmp_path / "cap"), str(tmp_path / "pairs"), "--json",
                                   str(tmp_path / "stats.json")])
    assert res.exit_code == 0, res.output
    assert "wrote 2 pairs" in res.output and "luminance" in res.output
    rgb = read_image(tmp_path / "pairs" / "rgb" / "images" / "100k" / "train" / "f1.png").astype(np.float64) / 255
    srgb = np.where(S[:, 0] / 2 <= 0.0031308, 12.92 * S[:, 0] / 2, 1.055 * (S[:, 0] / 2) ** (1 / 2.4) - 0.055)
    np.testing.assert_allclose(rgb[0, 0], srgb, atol=0.6 / 255)  # each colour's s0 / 2, sRGB-encoded
    res = CliRunner().invoke(app, ["colour-pairs", str(tmp_path / "cap"), str(tmp_path / "linear"),
                                   "--rgb-encoding", "linear"])
    assert res.exit_code == 0, res.output
    linear = read_image(tmp_path / "linear" / "rgb" / "images" / "100k" / "train" / "f1.png").astype(np.float64)
    np.testing.assert_allclose(linear[0, 0] / 255, S[:, 0] / 2, atol=0.6 / 255)  # the sensor's values
    ps = read_polarset(tmp_path / "pairs" / "polar")
    frame = next(iter(ps.frames("train")))
    w = np.array([0.299, 0.587, 0.114])
    np.testing.assert_allclose(stokes_from_intensities(ps.load(frame)[0, 0].astype(np.float64), a), w @ S,
                               atol=3 / 65535)
    import json

    stats = json.loads((tmp_path / "stats.json").read_text())
    assert abs(stats["f1"]["B"]["dolp_mean"] - 0.3) < 1e-3  # half unpolarized B, half B polarized at 0.6
    res = CliRunner().invoke(app, ["train", "--preset", "cpu-small", "--steps", "2", "--head", "stokes",
                                   "--paired", str(tmp_path / "pairs"), "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()
    res = CliRunner().invoke(app, ["eval-translator", "--checkpoint", str(tmp_path / "run" / "checkpoints" / "last.pt"),
                                   "--paired", str(tmp_path / "pairs"), "--split", "train"])
    assert res.exit_code == 0, res.output  # the pairs are read as synth's are
    assert "PSNR" in res.output or "psnr" in res.output.lower()


def test_validate_reads_colour_sets_per_colour_and_refuses_to_repair_them(tmp_path):
    a = camera_matrix(dtype=np.float64)
    _captures(tmp_path, a, "angles")
    res = CliRunner().invoke(app, ["validate", str(tmp_path), "--workers", "1", "--json", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    assert "colour-angle-suffix, 8 frames" in res.output
    import json

    frames = {f["name"]: f for f in json.loads((tmp_path / "r.json").read_text())["frames"]}
    assert set(frames) == {f"{n} [{p}]" for n in ("f1", "f2") for p in ("R", "G", "B", "luminance")}
    for part in ("R", "G", "B"):  # R: DoLP 0.6 on the left, 0 on the right; B the other way; G 0.3 both
        assert abs(frames[f"f1 [{part}]"]["dolp_mean"] - 0.3) < 1e-3, part
        assert frames[f"f1 [{part}]"]["inadmissible_fraction"] == 0
    w = np.array([0.299, 0.587, 0.114])
    lum = [np.hypot(*(w @ s)[1:]) / (w @ s)[0] for s in (S, S[[2, 1, 0]])]
    assert abs(frames["f1 [luminance]"]["dolp_mean"] - np.mean(lum)) < 1e-3
    assert "  luminance            DoLP mean" in res.output
    res = CliRunner().invoke(app, ["validate", str(tmp_path), "--fix", "--workers", "1"])
    assert res.exit_code == 2 and "checked, not repaired" in res.output


@pytest.mark.parametrize("kind", ["angles", "raw"])
def test_inspect_writes_maps_per_colour_and_for_the_luminance(tmp_path, kind):
    cam = "ideal" if kind == "angles" else "sony_imx250myr"
    _captures(tmp_path / "cap", load_camera(cam).matrix(np.float64), kind)
    file = tmp_path / "cap" / ("f1_0.png" if kind == "angles" else "f1.png")
    res = CliRunner().invoke(app, ["inspect", str(file), "--calibration", cam, "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    import json

    expected = {"R": 0.3, "G": 0.3, "B": 0.3}  # half 0.6 and half 0 for R and B; 0.3 for G
    if kind == "raw":  # demosaicing blurs the edge between the halves: expect the demosaiced planes' DoLP
        from polaraug.physics import dolp

        planes = demosaic_colour(read_image(file).astype(np.float64) / 65535, MYR).reshape(24, 32, 3, 4)
        s = stokes_from_intensities(planes, load_camera(cam).matrix(np.float64))
        expected = {c: float(np.mean(dolp(s[..., k, :]))) for k, c in enumerate("RGB")}
        assert all(abs(v - 0.3) < 0.05 for v in expected.values())
    for part, value in expected.items():
        summary = json.loads((tmp_path / "o" / part / "summary.json").read_text())
        assert abs(summary["mean_dolp"] - value) < 1e-3, part
        assert (tmp_path / "o" / part / "dolp.tiff").is_file()
    assert "[luminance]" in res.output


def test_the_luminance_part_is_read_in_the_stored_units(tmp_path):
    """12-bit data in 16-bit files, all colours alike: the luminance mix reads as each colour does."""
    import json

    y = _scene(camera_matrix(dtype=np.float64))[..., :4]  # one colour's intensities
    for k, angle in enumerate((0, 45, 90, 135)):
        plane = np.round(y[..., k] * 4095).astype(np.uint16)
        write_image(tmp_path / "set" / f"f_{angle}.png", np.repeat(plane[..., None], 3, axis=-1))
    (tmp_path / "cam.yaml").write_text("name: c12\nangles_deg: [0, 45, 90, 135]\ngains: [1, 1, 1, 1]\n"
                                       "extinction_ratios: [.inf, .inf, .inf, .inf]\nbit_depth: 12\n")
    res = CliRunner().invoke(app, ["validate", str(tmp_path / "set"), "--calibration", str(tmp_path / "cam.yaml"),
                                   "--workers", "1", "--json", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    frames = {f["name"]: f for f in json.loads((tmp_path / "r.json").read_text())["frames"]}
    for key in ("dolp_mean", "residual_rms", "saturated_fraction", "zero_fraction"):
        assert frames["f [luminance]"][key] == pytest.approx(frames["f [R]"][key], abs=1e-4), key
