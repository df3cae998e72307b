"""calibrate sensor: the noise curve of a known camera is recovered from its raw captures (single images and
stacks), the ADC depth is read from the samples, and captures that cannot support an estimate are refused
with the reason."""

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from polaraug.cameras.noise import detect_bits
from polaraug.cli import app
from polaraug.io.images import write_image
from polaraug.physics import demosaic, mosaic
from polaraug.physics.sensor import _per_sample, add_noise, edge_aware_demosaic

PATTERN = ((90, 45), (135, 0))
A, B = (1.0e-3, 1.5e-3, 0.8e-3, 1.2e-3), (2e-5, 1e-5, 3e-5, 2e-5)


def _patches(seed: int, h: int = 192, w: int = 256, levels=(0.02, 0.9)) -> np.ndarray:
    """Flat squares of random brightness, a little different per channel."""
    r = np.random.default_rng(seed)
    y = np.zeros((h, w, 4), np.float32)
    for i in range(0, h, 32):
        for j in range(0, w, 32):
            y[i:i + 32, j:j + 32] = r.uniform(*levels) * np.array([1, 0.9, 0.8, 0.95])
    return y


def _raw(y: np.ndarray, rng, shift: int = 4, pedestal: int = 0) -> np.ndarray:
    """A 12-bit raw mosaic of ``y`` with the known noise (and a black level of ``pedestal`` counts), shifted
    left into a 16-bit container."""
    raw = mosaic(y, PATTERN)
    raw = add_noise(raw, _per_sample(A, PATTERN, raw.shape), _per_sample(B, PATTERN, raw.shape), rng)
    return (np.round(np.clip(raw + pedestal / 4095, 0, 1) * 4095).astype(np.uint16) << shift)


@pytest.fixture()
def camera(tmp_path):
    path = tmp_path / "cam.yaml"
    path.write_text(yaml.safe_dump({"schema": "polaraug-camera/1", "name": "known", "angles_deg": [0, 45, 90, 135],
                                    "gains": [1, 1, 1, 1], "extinction_ratios": [300, 300, 300, 300],
                                    "dofp_pattern": [list(r) for r in PATTERN]}))
    return path


def _calibrate(files, camera, out, *extra):
    return CliRunner().invoke(app, ["calibrate", "sensor", *map(str, files), "--camera", str(camera), "--out",
                                    str(out), *extra])


def test_single_images_recover_the_shot_gain_within_ten_percent(tmp_path, camera):
    rng = np.random.default_rng(0)
    files = [write_image(tmp_path / f"c{k}.png", _raw(_patches(k), rng)) for k in range(3)]
    res = _calibrate(files, camera, tmp_path / "out.yaml", "--plot", str(tmp_path / "noise.png"))
    assert res.exit_code == 0, res.output
    assert "ADC depth 12 bits (shifted left by 4" in res.output and (tmp_path / "noise.png").is_file()
    sensor = yaml.safe_load((tmp_path / "out.yaml").read_text())["sensor"]
    assert np.allclose(sensor["noise_a"], A, rtol=0.10)
    assert np.all(np.abs(np.array(sensor["noise_b"]) - B) < 1.5e-5)  # the read term is small here: loosely known
    assert yaml.safe_load((tmp_path / "out.yaml").read_text())["bit_depth"] == 12


@pytest.mark.parametrize("method", ["bilinear", "edge-aware"])
def test_demosaiced_captures_recover_the_noise_of_their_raw_samples(tmp_path, camera, method):
    """4-channel captures of a DoFP camera, demosaiced by the camera's pipeline: three of four values per
    channel are interpolated (smoother than the samples); the estimate reads each channel where the sensor
    sampled it, so it recovers the raw samples' curve, as translate's sensor model needs it."""
    rng = np.random.default_rng(3)
    files = []
    for k in range(3):
        raw = _raw(_patches(k), rng, shift=0).astype(np.float32) / 4095
        y = demosaic(raw, PATTERN) if method == "bilinear" else edge_aware_demosaic(raw, PATTERN)
        y = np.clip(y, 0, 1)
        files.append(write_image(tmp_path / f"d{k}.png", np.round(y * 4095).astype(np.uint16)))
    res = _calibrate(files, camera, tmp_path / "out.yaml")
    assert res.exit_code == 0, res.output
    sensor = yaml.safe_load((tmp_path / "out.yaml").read_text())["sensor"]
    assert np.allclose(sensor["noise_a"], A, rtol=0.10)


def test_a_stack_recovers_both_terms(tmp_path, camera):
    rng = np.random.default_rng(1)
    scene = _patches(9)
    files = [write_image(tmp_path / f"s{k}.png", _raw(scene, rng)) for k in range(8)]
    res = _calibrate(files, camera, tmp_path / "out.yaml", "--stack")
    assert res.exit_code == 0, res.output
    sensor = yaml.safe_load((tmp_path / "out.yaml").read_text())["sensor"]
    assert np.allclose(sensor["noise_a"], A, rtol=0.10) and np.allclose(sensor["noise_b"], B, rtol=0.25)


def test_captures_that_cannot_support_an_estimate_are_refused(tmp_path, camera):
    rng = np.random.default_rng(2)
    bright = write_image(tmp_path / "sat.png", np.full((128, 128), 65535, np.uint16))
    res = _calibrate([bright], camera, tmp_path / "o.yaml")
    assert res.exit_code == 2 and "saturated" in res.output and "sat.png" in res.output
    one_level = write_image(tmp_path / "flat.png", _raw(_patches(3, levels=(0.4, 0.41)), rng))
    res = _calibrate([one_level], camera, tmp_path / "o.yaml")
    assert res.exit_code == 2 and "cannot be told apart" in res.output
    stripes = 0.5 + 0.4 * np.sin(np.arange(128) * 0.9)  # texture everywhere and no noise to measure
    texture = write_image(tmp_path / "tex.png", np.round(np.tile(stripes, (128, 1)) * 65535).astype(np.uint16))
    res = _calibrate([texture], camera, tmp_path / "o.yaml")
    assert res.exit_code == 2 and "flat regions" in res.output
    res = _calibrate([one_level], camera, tmp_path / "o.yaml", "--stack")
    assert res.exit_code == 2 and "at least 2 frames" in res.output
    assert not (tmp_path / "o.yaml").exists()


def test_bit_depth_is_read_from_the_samples():
    assert detect_bits(np.array([0, 17, 4095], np.uint16)) == (12, 0)
    assert detect_bits(np.array([0, 16 * 17, 16 * 4000], np.uint16)) == (12, 4)
    assert detect_bits(np.array([3, 200], np.uint8)) == (8, 0)
    assert detect_bits(np.array([3, 900], np.uint16)) == (10, 0)


def test_a_given_black_level_is_taken_out_before_the_fit_and_written(tmp_path, camera):
    rng = np.random.default_rng(5)
    scene = _patches(11, levels=(0.02, 0.8))
    files = [write_image(tmp_path / f"p{k}.png", _raw(scene, rng, pedestal=256)) for k in range(8)]
    res = _calibrate(files, camera, tmp_path / "out.yaml", "--stack", "--black-level", "256")
    assert res.exit_code == 0, res.output
    sensor = yaml.safe_load((tmp_path / "out.yaml").read_text())["sensor"]
    assert sensor["black_level"] == pytest.approx(256 / 4095)
    assert np.allclose(sensor["noise_a"], A, rtol=0.10) and np.allclose(sensor["noise_b"], B, rtol=0.25)
    # left in, the pedestal shifts the curve: the intercept (read noise at zero signal) comes out wrong
    res = _calibrate(files, camera, tmp_path / "raw.yaml", "--stack")
    wrong = yaml.safe_load((tmp_path / "raw.yaml").read_text())["sensor"]["noise_b"]
    assert not np.allclose(wrong, B, rtol=0.25)
