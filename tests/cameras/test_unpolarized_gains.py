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
