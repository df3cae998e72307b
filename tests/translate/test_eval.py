import json

import numpy as np
import pytest
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.physics import camera_matrix, intensities_from_stokes
from polaraug.synth import polarized_test_pattern
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig, save_checkpoint
from polaraug.translate.evaluate import frame_scores
from polaraug.translate.infer import translate_image

TINY = TranslatorConfig(mode="project", ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32)
A = camera_matrix()


def test_full_resolution_inference_keeps_the_size():
    model = ConstrainedCycleGAN(TINY, A)
    for h, w in ((37, 50), (64, 64), (3, 6)):
        out = translate_image(model, np.zeros((h, w, 3), np.uint8))
        assert out.shape == (h, w, 4) and out.dtype == np.float32 and np.isfinite(out).all()


def test_frame_scores_are_perfect_for_the_truth_and_penalise_errors():
    y = intensities_from_stokes(polarized_test_pattern(48, 64), A).astype(np.float32)
    s = frame_scores(y, y, A)
    assert s["dolp_abs"] == 0 and s["aolp_weighted"] == 0 and s["inadmissible"] == 0
    assert np.all(s["ssim"] > 0.999) and np.all(s["psnr"] > 60)
    mirrored = y[..., [0, 3, 2, 1]]  # wrong AoLP sign, same DoLP
    bad = frame_scores(mirrored, y, A)
    assert bad["aolp_weighted"] > 10 and bad["dolp_abs"] < 1e-5


def test_eval_translator_cli(tmp_path):
    generate(SynthConfig(n=4, width=64, height=48, seed=2, val_fraction=0.5), tmp_path / "paired", workers=1,
             progress=False)
    save_checkpoint(ConstrainedCycleGAN(TINY, A), tmp_path / "c.pt", step=0, epoch=0)
    res = CliRunner().invoke(app, ["eval-translator", "--checkpoint", str(tmp_path / "c.pt"), "--paired",
                                   str(tmp_path / "paired"), "--json", str(tmp_path / "s.json")])
    assert res.exit_code == 0, res.output
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["mode"] == "project" and scores["frames"] >= 1
    assert scores["inadmissible_fraction"] == pytest.approx(0.0, abs=1e-4)  # projected outputs
    res = CliRunner().invoke(app, ["eval-translator", "--checkpoint", str(tmp_path / "missing.pt"), "--paired",
                                   str(tmp_path / "paired")])
    assert res.exit_code == 2 and "missing.pt" in res.output


def test_eval_against_noise_free_twins_per_surface_with_pictures(tmp_path):
    """The shifted domain's held-out frames and their noise-free twins: both scored, the noise-free truth
    scores the *truth itself* perfectly, pictures are written at the frame's size, errors per surface."""
    from polaraug.cameras import load_camera
    from polaraug.synth.domain import get_domain
    from polaraug.synth.generate import domain_sensor
    from polaraug.translate.evaluate import evaluate

    common = dict(n=3, width=64, height=48, seed=7, val_fraction=0.5, domain="shifted", masks=True)
    generate(SynthConfig(**common), tmp_path / "test", workers=1, progress=False)
    dom = get_domain("shifted")
    clean = SynthConfig(**common, sensor=domain_sensor(dom, load_camera(dom.camera), dofp=False, noise=False))
    generate(clean, tmp_path / "truth", workers=1, progress=False)
    model = ConstrainedCycleGAN(TINY, A).translator.eval()  # an ideal-camera translator: re-expressed
    ev = evaluate(model, tmp_path / "test", clean=tmp_path / "truth" / "polar", pictures=tmp_path / "pics")
    assert ev.noise_free is not None and ev.noise_free.frames == ev.noisy.frames >= 1
    assert ev.noise_free.dolp_mae != ev.noisy.dolp_mae  # scored against another truth
    assert ev.surfaces and abs(sum(v["share"] for v in ev.surfaces.values()) - 1) < 1e-6
    assert all(0 <= v["dolp_mae"] <= 1 for v in ev.surfaces.values())
    pics = sorted((tmp_path / "pics").glob("*.png"))
    assert len(pics) == ev.noisy.frames
    from polaraug.io.images import read_image

    assert read_image(pics[0]).shape == (48 + 18, 7 * 64, 3)
    lines = "\n".join(ev.lines())
    assert "noise-free" in lines and "by surface" in lines


def test_surface_errors_tell_a_dolp_bias_from_its_spread(tmp_path):
    """A surface predicted 0.1 too low everywhere has bias -0.1; one predicted ±0.1 around the truth has bias 0,
    and both have the same DoLP MAE."""
    from types import SimpleNamespace

    from polaraug.io.images import write_image
    from polaraug.translate.evaluate import SurfaceErrors

    mask = np.zeros((4, 6), np.uint8)
    mask[:, 3:] = 1
    write_image(tmp_path / "masks" / "train" / "f0.png", mask)
    true = np.full((4, 6), 0.3, np.float32)
    pred = true.copy()
    pred[:, :3] -= 0.1  # surface "low": biased
    pred[:, 3:] += np.where(np.arange(4)[:, None] % 2 == 0, 0.1, -0.1)  # surface "spread": unbiased
    acc = SurfaceErrors(tmp_path, "train", {0: "low", 1: "spread"})
    acc.add("f0", SimpleNamespace(dolp_pred=pred, dolp_true=true, aolp_diff=np.zeros_like(true)))
    out = acc.summary()
    assert out["low"]["dolp_bias"] == pytest.approx(-0.1, abs=1e-6)
    assert out["spread"]["dolp_bias"] == pytest.approx(0.0, abs=1e-6)
    assert out["low"]["dolp_mae"] == pytest.approx(out["spread"]["dolp_mae"], abs=1e-6)
    assert out["low"]["dolp_true_mean"] == pytest.approx(0.3, abs=1e-6)
    assert out["low"]["dolp_pred_mean"] == pytest.approx(0.2, abs=1e-6)
