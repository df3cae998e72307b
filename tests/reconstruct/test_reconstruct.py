"""Reconstruction stage: masks, one training step per mode, the λ trade-off, apply keeping known pixels,
metrics behaving like distances, CLI end to end (tiny CPU runs)."""

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.io.images import read_image, write_image
from polaraug.physics import analyze, camera_matrix
from polaraug.reconstruct.apply import fill, fill_stored
from polaraug.reconstruct.config import ReconstructConfig
from polaraug.reconstruct.data import Crops
from polaraug.reconstruct.masks import grid_mask, random_mask
from polaraug.reconstruct.metrics import (
    features,
    frechet_distance,
    kernel_inception_distance,
    sliced_wasserstein,
    train_feature_net,
)
from polaraug.reconstruct.model import PixelConditionedGAN
from polaraug.reconstruct.train import train
from polaraug.synth.generate import SynthConfig, generate

A = torch.from_numpy(camera_matrix()).float()


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    root = tmp_path_factory.mktemp("rc")
    generate(SynthConfig(n=6, width=64, height=48, seed=3, mode="paired", val_fraction=0.0), root, workers=1,
             progress=False)
    return root


def test_masks_have_the_asked_density_and_grid_is_regular():
    gen = torch.Generator().manual_seed(0)
    m = random_mask(8, 128, 128, 0.005, gen)
    assert m.shape == (8, 1, 128, 128) and abs(m.mean().item() - 0.005) < 0.0015
    g = grid_mask(2, 64, 64, 0.25, gen)  # one pixel per 2x2 super-pixel, DoFP-like
    assert g.mean().item() == 0.25
    assert all(g[i, 0].reshape(32, 2, 32, 2).sum(dim=(1, 3)).eq(1).all() for i in range(2))
    with pytest.raises(ValueError, match="density"):
        random_mask(1, 8, 8, 0.0)


@pytest.mark.parametrize(("channels", "pacgan", "project"), [(3, 1, False), (3, 2, False), (4, 1, True),
                                                             (4, 2, False)])
def test_one_training_step_of_each_mode(channels, pacgan, project):
    cfg = ReconstructConfig(channels=channels, pacgan=pacgan, project=project, ngf=8, n_blocks=1, ndf=8)
    model = PixelConditionedGAN(cfg, A if channels == 4 else None)
    x = torch.rand(4, channels, 32, 32) * 2 - 1
    before = [p.clone() for p in model.g.parameters()]
    losses = model.training_step(x, random_mask(4, 32, 32, 0.1), torch.randn(4, cfg.nz, 32, 32))
    assert set(losses) == {"g_adv", "constraint_mse", "d"} and all(np.isfinite(v) for v in losses.values())
    assert any(not torch.equal(b, p) for b, p in zip(before, model.g.parameters(), strict=True))
    out = model.complete(x, random_mask(4, 32, 32, 0.1), keep_known=False)
    if project:  # projected polarimetric outputs are admissible
        y = ((out + 1) / 2).permute(0, 2, 3, 1).numpy()
        assert analyze(y, camera_matrix()).inadmissible_fraction == 0


def test_explicit_mask_keeps_zero_valued_known_pixels():
    """A true zero is a known value: the generator sees the mask, and apply copies it back exactly."""
    cfg = ReconstructConfig(channels=3, ngf=8, n_blocks=1, ndf=8)
    model = PixelConditionedGAN(cfg).eval()
    y = np.full((16, 20, 3), 0.6, np.float32)
    y[5, 7] = 0.0  # a known black pixel
    known = np.zeros((16, 20), bool)
    known[5, 7] = known[10, 3] = True
    out, _ = fill(model, y, known)
    assert np.array_equal(out[5, 7], [0, 0, 0]) and np.array_equal(out[10, 3], y[10, 3])
    # the generator's input differs between "known zero" and "unknown": the mask is a separate channel
    c = torch.zeros(1, 3, 16, 20)
    z = torch.zeros(1, cfg.nz, 16, 20)
    m_known, m_unknown = torch.zeros(1, 1, 16, 20), torch.zeros(1, 1, 16, 20)
    m_known[0, 0, 5, 7] = 1
    with torch.no_grad():
        assert not torch.allclose(model.g(c, m_known, z), model.g(c, m_unknown, z))


def test_larger_lambda_lowers_constraint_mse(scenes, tmp_path):
    """Same data, seeds and budget; λ = 100 respects the known pixels better than λ = 0.01 on a fixed
    evaluation batch (crops, masks and noise fixed by seed)."""
    from polaraug.reconstruct.checkpoint import load_checkpoint
    from polaraug.reconstruct.model import constraint_mse
    from polaraug.reconstruct.sweep import eval_batch

    mse = {}
    for lam in (0.01, 100.0):
        cfg = ReconstructConfig(channels=3, lam=lam, ngf=8, n_blocks=1, ndf=8, crop=32, density=0.05)
        data = Crops.from_folder(scenes / "rgb", None, cfg, seed=1)
        result = train(data, tmp_path / f"l{lam}", cfg, steps=80, seed=1, progress=False, sample_every=1000)
        model = load_checkpoint(result.checkpoint)[0].eval()
        real, m = eval_batch(Crops.from_folder(scenes / "rgb", None, cfg, seed=99), 32)
        fake = model.complete(real, m, torch.Generator().manual_seed(0), keep_known=False)
        mse[lam] = float(constraint_mse(fake, real, m))
    assert mse[100.0] < mse[0.01], mse


def test_training_resumes_exactly(scenes, tmp_path):
    cfg = ReconstructConfig(channels=4, ngf=8, n_blocks=1, ndf=8, crop=32, density=0.05)
    from polaraug.data.polarset import read_polarset

    cam = read_polarset(scenes / "polar").camera
    data = Crops.from_folder(scenes / "polar", cam, cfg, seed=2)
    train(data, tmp_path / "full", cfg, steps=6, seed=2, progress=False)
    train(data, tmp_path / "cut", cfg, steps=3, seed=2, progress=False)
    train(data, tmp_path / "cut", cfg, steps=6, seed=2, progress=False)
    a = torch.load(tmp_path / "full" / "checkpoints" / "last.pt", weights_only=True)["g"]
    b = torch.load(tmp_path / "cut" / "checkpoints" / "last.pt", weights_only=True)["g"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="other settings"):
        train(data, tmp_path / "cut", ReconstructConfig(channels=4, ngf=8, n_blocks=1, ndf=8, crop=32), 8, seed=2,
              progress=False)


def test_runs_from_before_the_gan_options_resume_and_a_critic_step_resumes(scenes, tmp_path):
    from polaraug.data.polarset import read_polarset

    cam = read_polarset(scenes / "polar").camera
    cfg = ReconstructConfig(channels=4, ngf=8, n_blocks=1, ndf=8, crop=32, density=0.05, gan_loss="wgan-gp",
                            n_critic=2)
    data = Crops.from_folder(scenes / "polar", cam, cfg, seed=2)
    train(data, tmp_path / "r", cfg, steps=3, seed=2, progress=False)  # stops before a critic-only step
    result = train(data, tmp_path / "r", cfg, steps=5, seed=2, progress=False)  # the first resumed step: critic
    assert result.steps == 5
    old = ReconstructConfig(channels=4, ngf=8, n_blocks=1, ndf=8, crop=32, density=0.05)
    train(data, tmp_path / "old", old, steps=2, seed=2, progress=False)
    saved = json.loads((tmp_path / "old" / "config.json").read_text())
    for key in ("gan_loss", "n_critic", "lambda_gp", "latent_dim", "latent_steps", "latent_lr", "latent_prior"):
        del saved["config"][key]  # a run folder written before these settings existed
    (tmp_path / "old" / "config.json").write_text(json.dumps(saved))
    assert train(data, tmp_path / "old", old, steps=4, seed=2, progress=False).steps == 4


def test_fill_stored_keeps_known_integers_and_fills_admissibly(rng):
    from polaraug.cameras import Camera
    from polaraug.physics.quantize import check_quantized

    cfg = ReconstructConfig(channels=4, ngf=8, n_blocks=1, ndf=8)
    model = PixelConditionedGAN(cfg, A).eval()
    raw = rng.integers(100, 4000, (20, 24, 4)).astype(np.uint16)
    known = rng.random((20, 24)) < 0.3
    out, mse = fill_stored(model, raw, known, Camera(name="ideal"))
    assert np.array_equal(out[known], raw[known]) and out.dtype == np.uint16
    assert check_quantized(out[~known][:, None, :], camera_matrix(dtype=np.float64), bits=16) == 0
    assert mse >= 0


def test_fid_kid_swd_are_zero_for_identical_sets_and_grow_with_noise():
    gen = torch.Generator().manual_seed(0)
    xx = torch.linspace(0, 1, 32)
    imgs = torch.stack([((torch.sin(6 * xx[None, :] * (1 + i % 5) + i + xx[:, None] * (i % 3)) + 1) / 2)
                        .expand(4, 32, 32) for i in range(48)])
    net = train_feature_net(imgs, steps=30)
    f = features(net, imgs)
    assert abs(frechet_distance(f, f)) < 1e-6
    assert sliced_wasserstein(imgs, imgs) == pytest.approx(0, abs=1e-9)
    fids, swds, kids = [], [], []
    for s in (0.05, 0.2):
        noisy = (imgs + s * torch.randn(imgs.shape, generator=gen)).clamp(0, 1)
        fn = features(net, noisy)
        fids.append(frechet_distance(f, fn))
        kids.append(kernel_inception_distance(f, fn))
        swds.append(sliced_wasserstein(imgs, noisy))
    assert 0 < fids[0] < fids[1] and 0 < swds[0] < swds[1] and kids[0] < kids[1]


def test_cli_train_apply_sweep(scenes, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["reconstruct", "train", "--data", str(scenes / "polar"), "--out", str(tmp_path / "r"),
                              "--steps", "4", "--crop", "32", "--density", "0.05", "--pacgan", "2"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r" / "samples" / "step_0000004.png").is_file()
    grid = read_image(tmp_path / "r" / "samples" / "step_0000004.png")
    assert grid.shape[1] == 5 * 32  # original | constraints | sample | sample | satisfied map

    masks, images = tmp_path / "masks", sorted((scenes / "polar" / "images" / "train").glob("*.png"))

    def write_masks(paths):
        for p in paths:
            m = np.zeros((48, 64), np.uint8)
            m[::4, ::4] = 255
            write_image(masks / p.name, m)

    def apply():
        return runner.invoke(app, ["reconstruct", "apply", "--checkpoint", str(tmp_path / "r/checkpoints/last.pt"),
                                   "--input", str(scenes / "polar" / "images" / "train"), "--mask", str(masks),
                                   "--out", str(tmp_path / "filled")])

    write_masks(images[:2])
    res = apply()
    assert res.exit_code != 0 and "mask" in res.output  # masks exist for 2 of 6 frames: the 3rd is named
    write_masks(images[2:])
    res = apply()
    assert res.exit_code == 0, res.output
    for p in images:
        a, b = read_image(p), read_image(tmp_path / "filled" / p.name)
        assert np.array_equal(a[::4, ::4], b[::4, ::4])  # known pixels exactly
    assert "model error on known pixels" in res.output

    res = runner.invoke(app, ["reconstruct", "sweep", "--data", str(scenes / "rgb"), "--out", str(tmp_path / "sw"),
                              "--lambdas", "0.1,10", "--seeds", "1", "--steps", "2", "--eval-images", "8",
                              "--crop", "32", "--baselines", "context-encoder,latent-optimisation"])
    assert res.exit_code == 0, res.output
    results = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    assert [(r["method"], r["lambda"]) for r in results["table"]] == [
        ("pixel-wise GAN", 0.1), ("pixel-wise GAN", 10.0), ("context-encoder", None), ("latent-optimisation", None)]
    assert set(results["table"][0]) == {"method", "lambda", "constraint_mse", "satisfied_fraction", "fid", "kid",
                                        "swd"}
    assert all(np.isfinite(r[k]["mean"]) for r in results["table"] for k in ("constraint_mse", "fid", "swd"))
    assert "| latent-optimisation |" in res.output and "| λ = 0.1 |" in res.output
    assert (tmp_path / "sw" / "tradeoff.png").is_file()
    res = runner.invoke(app, ["reconstruct", "sweep", "--data", str(scenes / "rgb"), "--out", str(tmp_path / "sw2"),
                              "--baselines", "autoencoder"])
    assert res.exit_code == 2 and "autoencoder" in res.output, res.output


def test_fill_stored_uses_the_image_depth_not_the_training_cameras(rng):
    """An 8-bit image through a model whose camera is 12-bit: holes are 8-bit values, nothing wraps."""
    from polaraug.cameras import Camera

    model = PixelConditionedGAN(ReconstructConfig(channels=4, ngf=8, n_blocks=1, ndf=8), A).eval()
    raw = rng.integers(60, 200, (16, 16, 4)).astype(np.uint8)
    known = rng.random((16, 16)) < 0.5
    out, _ = fill_stored(model, raw, known, Camera(name="ideal", bit_depth=12))
    filled = out[~known].astype(np.float64) / 255
    assert out.dtype == np.uint8 and filled.mean() > 0.05  # a 12-bit scale would give values near 0
    assert np.array_equal(out[known], raw[known])


def test_unprojected_polarimetric_checkpoint_loads_and_keeps_its_camera(tmp_path):
    from polaraug.reconstruct.checkpoint import load_checkpoint, save_checkpoint

    model = PixelConditionedGAN(ReconstructConfig(channels=4, project=False, ngf=8, n_blocks=1, ndf=8), A)
    save_checkpoint(model, tmp_path / "c.pt", 0, 0)
    loaded, _ = load_checkpoint(tmp_path / "c.pt")
    assert not loaded.g.project and torch.equal(loaded.g.a, A)
