"""The reconstruction baselines: a context encoder and latent optimisation (tiny configs)."""

import math

import pytest
import torch

from polaraug.errors import ConfigError, InputError
from polaraug.physics import camera_matrix, inadmissible_fraction, stokes_from_intensities
from polaraug.reconstruct.baselines import (
    BASELINES,
    LatentOptimisation,
    build_baseline,
    load_baseline,
    save_baseline,
    train_baseline,
)
from polaraug.reconstruct.config import ReconstructConfig
from polaraug.reconstruct.data import Crops

A = torch.as_tensor(camera_matrix(), dtype=torch.float32)


def _cfg(**kw) -> ReconstructConfig:
    return ReconstructConfig(**{**dict(channels=4, ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32, batch=2,
                                       latent_dim=16, latent_steps=30, density=0.1), **kw})


def _batch(seed=0, n=2, c=4, size=32):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, size, size, generator=g) * 2 - 1, (torch.rand(n, 1, size, size, generator=g) < 0.1).float()


@pytest.mark.parametrize("method", BASELINES)
@pytest.mark.parametrize("gan_loss", ["lsgan", "wgan-gp"])
def test_one_step_is_finite_and_the_checkpoint_round_trips(method, gan_loss, tmp_path):
    model = build_baseline(method, _cfg(gan_loss=gan_loss), A, seed=1)
    real, m = _batch()
    losses = model.training_step(real, m)
    assert losses and all(math.isfinite(v) for v in losses.values()), losses
    save_baseline(model, tmp_path / "b.pt", step=1, seed=1)
    loaded, state = load_baseline(tmp_path / "b.pt")
    assert state["method"] == method and type(loaded) is type(model)
    for name in model.nets:
        for p, q in zip(getattr(model, name).parameters(), getattr(loaded, name).parameters(), strict=True):
            assert torch.equal(p, q)
    # the same step from the restored optimizers gives the same weights (D's update is deterministic here)
    torch.manual_seed(3)
    model.training_step(*_batch(5))
    torch.manual_seed(3)
    loaded.training_step(*_batch(5))
    for p, q in zip(model.g.parameters(), loaded.g.parameters(), strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("method", BASELINES)
def test_completions_are_admissible_and_keep_the_known_pixels(method):
    model = build_baseline(method, _cfg(), A)
    real, m = _batch(2)
    out = model.complete(real, m, torch.Generator().manual_seed(0))
    assert out.shape == real.shape
    assert torch.equal(out[m.expand_as(out) > 0], real[m.expand_as(real) > 0])
    free = model.complete(real, m, torch.Generator().manual_seed(0), keep_known=False)
    s = stokes_from_intensities((free.double() + 1) / 2, A.double())
    assert inadmissible_fraction(s, tol=1e-6) == 0.0  # projected onto the admissible set


def test_latent_search_fits_the_known_pixels_better_than_its_starting_point():
    model = LatentOptimisation(_cfg(latent_steps=200, latent_prior=0.0), A, seed=0)
    with torch.no_grad():  # a target the generator can reach, seen through sparse known pixels
        real = model.sample(torch.randn(2, 16, generator=torch.Generator().manual_seed(8)))
    m = _batch(9)[1]

    def context_error(out):
        return float(((out - real).abs() * m).sum() / (m.sum() * 4))

    start = model.sample(torch.randn(2, 16, generator=torch.Generator().manual_seed(4))).detach()
    fitted = model.complete(real, m, torch.Generator().manual_seed(4), keep_known=False)
    assert context_error(fitted) < 0.8 * context_error(start)  # a non-convex search: a clear drop, not a fit
    with pytest.raises(InputError, match="32x32"):
        model.complete(*_batch(0, size=16), keep_known=False)
    with pytest.raises(ConfigError, match="multiple of 16"):
        LatentOptimisation(_cfg(crop=36), A)
    with pytest.raises(ConfigError, match="unknown reconstruction baseline"):
        build_baseline("autoencoder", _cfg(), A)


def test_training_resumes_to_the_uninterrupted_weights(tmp_path):
    from polaraug.cameras import load_camera
    from polaraug.synth.generate import SynthConfig, generate

    generate(SynthConfig(n=3, width=64, height=48, seed=1), tmp_path / "s", workers=1, progress=False)
    cfg = _cfg()
    cam = load_camera("ideal")
    data = Crops.from_folder(tmp_path / "s" / "polar", cam, cfg, seed=2)
    full = train_baseline("context-encoder", data, tmp_path / "full", cfg, 4, seed=2, progress=False)
    train_baseline("context-encoder", data, tmp_path / "cut", cfg, 2, seed=2, progress=False)
    cut = train_baseline("context-encoder", data, tmp_path / "cut", cfg, 4, seed=2, progress=False)
    a, _ = load_baseline(full.checkpoint)
    b, _ = load_baseline(cut.checkpoint)
    for p, q in zip(a.g.parameters(), b.g.parameters(), strict=True):
        assert torch.equal(p, q)
    with pytest.raises(InputError, match="other settings"):
        train_baseline("context-encoder", data, tmp_path / "cut", _cfg(lr=1e-3), 6, seed=2, progress=False)
