"""--adapt sensor: with the generator frozen, the raw noise of the real camera is recovered through its
demosaicing (indirect inference), exposure is one gain, and the command writes a camera file translate
reads."""

import numpy as np
import yaml
from typer.testing import CliRunner

from polaraug.cameras import load_camera
from polaraug.cli import app
from polaraug.physics.sensor import SensorModel, capture
from polaraug.translate.adapt_sensor import fit_sensor


def _patches(seed: int, h: int = 192, w: int = 256, scale: float = 1.0) -> np.ndarray:
    r = np.random.default_rng(seed)
    y = np.zeros((h, w, 4), np.float32)
    for i in range(0, h, 32):
        for j in range(0, w, 32):
            y[i:i + 32, j:j + 32] = scale * r.uniform(0.03, 0.8) * np.array([1, 0.9, 0.8, 0.95])
    return y


def test_the_raw_noise_is_recovered_through_demosaicing_and_exposure_is_one_gain():
    cam = load_camera("shifted_dofp")
    true = SensorModel(noise_a=(1e-3,) * 4, noise_b=(9e-6,) * 4, bits=12, dofp_pattern=cam.dofp_pattern)
    rng = np.random.default_rng(0)
    real = [np.clip(capture(_patches(k), true, rng), 0, 1) for k in range(8)]
    translated = [_patches(100 + k, scale=0.5) for k in range(8)]  # other scenes, half as bright, no noise
    fit = fit_sensor(translated, real, cam)
    assert np.allclose(fit.sensor.noise_a, 1e-3, rtol=0.10)
    # demosaicing averages: the frames as stored measure far less than the raw read-out's noise
    assert all(a < 2e-4 for a, _ in fit.real_curve)
    assert 1.6 < fit.gain < 2.6 and fit.sensor.gain == fit.gain  # one exposure gain: DoLP and AoLP untouched
    assert all(abs(s[0] - r[0]) < 0.1 * r[0] for s, r in zip(fit.simulated_curve, fit.real_curve, strict=True))


def test_adapt_sensor_writes_a_camera_file_translate_reads(tmp_path):
    from polaraug.physics import camera_matrix
    from polaraug.synth.generate import SynthConfig, generate
    from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig, save_checkpoint

    generate(SynthConfig(n=4, width=96, height=64, seed=1, mode="rgb"), tmp_path / "rgb", workers=1, progress=False)
    generate(SynthConfig(n=4, width=192, height=144, seed=2, mode="polar", domain="shifted", val_fraction=0.0),
             tmp_path / "real", workers=1, progress=False)
    cfg = TranslatorConfig(ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32, head="stokes")
    save_checkpoint(ConstrainedCycleGAN(cfg, camera_matrix()), tmp_path / "c.pt", step=0, epoch=0,
                    camera_name="ideal")
    args = ["train", "--init", str(tmp_path / "c.pt"), "--adapt", "sensor", "--rgb", str(tmp_path / "rgb"),
            "--polar", str(tmp_path / "real"), "--out", str(tmp_path / "run")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    cam = load_camera(tmp_path / "run" / "camera.yaml")
    assert cam.sensor is not None and cam.sensor.bits == 12 and cam.dofp_pattern is not None
    assert "adapted" in cam.name and yaml.safe_load((tmp_path / "run" / "adapt_sensor.json").read_text())["gain"] > 0
    res = CliRunner().invoke(app, ["train", "--adapt", "sensor", "--rgb", str(tmp_path / "rgb"), "--out",
                                   str(tmp_path / "x")])
    assert res.exit_code == 2 and "--init" in res.output
