"""calibrate flatfield / weak: per-channel gains recovered from synthetic captures of known gains."""

import numpy as np
import pytest
from typer.testing import CliRunner

from polaraug.cameras import load_camera
from polaraug.cli import app
from polaraug.io.images import write_image
from polaraug.physics import camera_matrix

TRUE_GAINS = np.array([1.0, 0.93, 1.06, 0.96])


def _write(path, y):
    write_image(path, np.round(np.clip(y, 0, 1) * 65535).astype(np.uint16))


def _captures(tmp_path, polarized_share: float, n: int = 3):
    """Captures of camera TRUE_GAINS: unpolarized light with a vignetted s0, plus a share of pixels
    polarized at DoLP 0.6, AoLP 30°."""
    a = camera_matrix(gains=TRUE_GAINS, dtype=np.float64)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        yy, xx = np.mgrid[0:48, 0:64]
        s0 = 0.6 * (1 - 0.3 * (((yy - 24) / 24) ** 2 + ((xx - 32) / 32) ** 2)) * rng.uniform(0.5, 1.0, (48, 64))
        pol = rng.uniform(size=(48, 64)) < polarized_share
        s = np.stack([s0, np.where(pol, 0.6 * s0 * np.cos(np.radians(60)), 0),
                      np.where(pol, 0.6 * s0 * np.sin(np.radians(60)), 0)], -1)
        paths.append(tmp_path / f"c{i}.png")
        _write(paths[-1], s @ a.T)
    return paths


@pytest.mark.parametrize(("command", "share", "tolerance"), [("flatfield", 0.0, 2e-4), ("weak", 0.15, 0.02)])
def test_gains_are_recovered(tmp_path, command, share, tolerance):
    files = _captures(tmp_path, share)
    out = tmp_path / "cam.yaml"
    res = CliRunner().invoke(app, ["calibrate", command, *map(str, files), "--out", str(out)])
    assert res.exit_code == 0, res.output
    gains = np.array(load_camera(out).gains)
    np.testing.assert_allclose(gains, TRUE_GAINS / TRUE_GAINS.mean(), atol=tolerance)
    lines = {line[:28].strip(): line[28:].split() for line in res.output.splitlines() if len(line) > 28}
    before, after = (float(v) for v in lines["median (I0+I90)/(I45+I135)"])
    assert abs(after - 1) < abs(before - 1) and abs(after - 1) < 0.01
    assert ("assumption: most of each scene is weakly polarized" in res.output) == (command == "weak")
    if command == "flatfield":  # unpolarized light: no AoLP at all once the gains are right
        dolp_before, dolp_after = (float(v) for v in lines["median DoLP"])
        assert dolp_after < 0.01 < dolp_before


def test_per_pixel_flat_field_map_is_written_and_applied_on_read(tmp_path):
    from polaraug.io.capture import read_capture
    from polaraug.physics import aolp, dolp, stokes_from_intensities

    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[0:40, 0:56]
    vignette = 1 - 0.35 * (((yy - 20) / 20) ** 2 + ((xx - 28) / 28) ** 2) / 2
    response = rng.uniform(0.95, 1.05, (40, 56, 4))  # per-pixel, per-channel sensitivity
    sensor = vignette[..., None] * response * TRUE_GAINS
    ideal = camera_matrix(dtype=np.float64)

    def capture(s):  # what this sensor records of uniform light of Stokes s
        return sensor * (ideal @ np.asarray(s))

    files = []
    for i in range(2):
        files.append(tmp_path / f"flat{i}.png")
        _write(files[-1], capture([0.9, 0.0, 0.0]))
    out = tmp_path / "cam.yaml"
    res = CliRunner().invoke(app, ["calibrate", "flatfield", *map(str, files), "--per-pixel", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "cam.gainmap.npy").is_file() and "gain_map: cam.gainmap.npy" in out.read_text()

    t = np.radians(20)
    _write(tmp_path / "scene.png", capture([0.8, 0.4 * np.cos(2 * t), 0.4 * np.sin(2 * t)]))
    for cam, dolp_err, aolp_err in ((load_camera(out), 2e-3, 0.3), (load_camera("ideal"), None, None)):
        s = stokes_from_intensities(read_capture(tmp_path / "scene.png", cam).intensities.astype(np.float64),
                                    cam.matrix(np.float64))
        err_d = np.abs(dolp(s) - 0.5).max()
        err_a = np.degrees(np.abs(np.angle(np.exp(2j * (aolp(s) - t))) / 2)).max()
        if dolp_err is None:  # without the correction the same pixels are far off
            assert err_d > 0.05 and err_a > 2
        else:
            assert err_d < dolp_err and err_a < aolp_err
    from polaraug.io.images import ImageReadError

    _write(tmp_path / "small.png", capture([0.9, 0, 0])[:20])
    with pytest.raises(ImageReadError, match="small.png: shape .* does not match the gain map"):
        read_capture(tmp_path / "small.png", load_camera(out))


def test_per_pixel_map_of_raw_mosaics_is_applied_before_demosaicing(tmp_path):
    from polaraug.io.capture import read_capture
    from polaraug.physics import dolp, mosaic, stokes_from_intensities

    rng = np.random.default_rng(2)
    pattern = [[90, 45], [135, 0]]  # sony_imx250mzr
    response = rng.uniform(0.9, 1.1, (32, 48))
    ideal = camera_matrix(dtype=np.float64)

    def raw(s):
        return mosaic(np.broadcast_to(ideal @ np.asarray(s), (32, 48, 4)).copy(), pattern) * response

    for i in range(2):
        write_image(tmp_path / f"flat{i}.png", np.round(raw([0.8, 0, 0]) * 65535).astype(np.uint16))
    out = tmp_path / "cam.yaml"
    res = CliRunner().invoke(app, ["calibrate", "flatfield", str(tmp_path / "flat0.png"), str(tmp_path / "flat1.png"),
                                   "--camera", "sony_imx250mzr", "--per-pixel", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert np.load(tmp_path / "cam.gainmap.npy").shape == (32, 48)
    write_image(tmp_path / "scene.png", np.round(raw([0.8, 0.3, 0.2]) * 65535).astype(np.uint16))
    truth = np.hypot(0.3, 0.2) / 0.8
    errors = []
    for cam in (load_camera(out), load_camera("sony_imx250mzr")):
        y = read_capture(tmp_path / "scene.png", cam).intensities.astype(np.float64)
        errors.append(np.abs(dolp(stokes_from_intensities(y, cam.matrix(np.float64)))[2:-2, 2:-2] - truth).max())
    assert errors[0] < 2e-3 < 0.02 < errors[1]  # corrected vs uncorrected, interior pixels
