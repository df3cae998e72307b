"""Adversarial loss kinds (lsgan, vanilla, wgan-gp), the multi-scale discriminator and feature matching, in
both translator objectives and the pixel-wise conditioned GAN: one step runs, losses are finite, checkpoints
round-trip, and each piece computes what its paper defines."""

import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.errors import ConfigError
from polaraug.nn import (
    Adversarial,
    MultiScaleDiscriminator,
    PatchDiscriminator,
    build_discriminator,
    feature_matching,
    generator_turn,
    gradient_penalty,
    judge_both,
    min_input_side,
    vanilla,
    wasserstein,
)
from polaraug.physics import camera_matrix
from polaraug.reconstruct.checkpoint import load_checkpoint as load_reconstruction
from polaraug.reconstruct.checkpoint import save_checkpoint as save_reconstruction
from polaraug.reconstruct.config import ReconstructConfig
from polaraug.reconstruct.model import PixelConditionedGAN
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import ConstrainedCycleGAN, TranslatorConfig, load_checkpoint, save_checkpoint
from polaraug.translate.paired import PairedTranslator

TINY = dict(ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32, pool_size=2)
A_CAM = torch.as_tensor(camera_matrix(), dtype=torch.float32)


def _batch(seed: int, n: int = 2, size: int = 32):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1, torch.rand(n, 4, size, size, generator=g) * 2 - 1


def _params(net: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def _changed(before: list[torch.Tensor], net: torch.nn.Module) -> bool:
    return any(not torch.equal(p, q) for p, q in zip(before, net.parameters(), strict=True))


# --- the functional core ---------------------------------------------------------------------------------

def test_vanilla_and_wasserstein_terms_match_their_definitions():
    pred = torch.tensor([-2.0, 0.0, 3.0])
    sig = torch.sigmoid(pred)
    torch.testing.assert_close(vanilla(pred, True), -torch.log(sig).mean())
    torch.testing.assert_close(vanilla(pred, False), -torch.log(1 - sig).mean())
    assert wasserstein(pred, True).item() == pytest.approx(-1 / 3)
    assert wasserstein(pred, False).item() == pytest.approx(1 / 3)
    critic = Adversarial("wgan-gp")
    # the critic's loss E D(fake) - E D(real), averaged over scales
    loss = critic.discriminator([torch.full((2, 1, 3, 3), 2.0), torch.ones(1, 1, 2, 2)],
                                [torch.full((2, 1, 3, 3), -1.0), torch.zeros(1, 1, 2, 2)])
    assert loss.item() == pytest.approx(((-1 - 2) + (0 - 1)) / 2)
    ls = Adversarial("lsgan")
    assert ls.discriminator([torch.ones(2, 1)], [torch.zeros(2, 1)]).item() == 0.0  # a perfect LSGAN D
    with pytest.raises(ConfigError, match="wgan-gp"):
        Adversarial("hinge")


def test_gradient_penalty_takes_the_critic_value_the_loss_uses_the_mean_over_patches():
    w = torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(1))

    def patches(x):  # four patches, each the same linear critic: the sample's value is <w, x>, slope |w|
        return [(x * w).sum((1, 2, 3))[:, None, None, None].expand(-1, 1, 2, 2)]

    real, fake = _batch(3)[0][:, :3, :4, :4], _batch(4)[0][:, :3, :4, :4]
    assert gradient_penalty(patches, real, fake).item() == pytest.approx((w.norm().item() - 1) ** 2, rel=1e-5)


def test_gradient_penalty_of_a_linear_critic_is_its_norm_minus_one_squared():
    w = torch.randn(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))

    def critic(x):  # D(x) = <w, x>: its gradient is w everywhere
        return [(x * w).sum((1, 2, 3))]

    real, fake = _batch(1)[0][:, :3, :4, :4], _batch(2)[0][:, :3, :4, :4]
    gp = gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx((w.norm().item() - 1) ** 2, rel=1e-5)
    unit = w / w.norm()
    assert gradient_penalty(lambda x: [(x * unit).sum((1, 2, 3))], real, fake).item() == pytest.approx(0, abs=1e-10)


def test_feature_matching_is_zero_on_equal_activations_and_skips_the_outputs():
    a = [[torch.ones(1, 2, 4, 4), torch.zeros(1, 1, 2, 2)]]
    b = [[torch.ones(1, 2, 4, 4), torch.full((1, 1, 2, 2), 5.0)]]  # differs only in the output
    assert feature_matching(a, b).item() == 0.0
    c = [[torch.full((1, 2, 4, 4), 1.5), torch.zeros(1, 1, 2, 2)]]
    assert feature_matching(a, c).item() == pytest.approx(0.5)


def test_multi_scale_discriminator_judges_coarser_copies():
    d = MultiScaleDiscriminator(4, ndf=8, n_layers=2, n_scales=3)
    x = torch.randn(2, 4, 64, 64)
    outs, feats = d.outputs(x), d.features(x)
    assert len(outs) == len(feats) == 3
    assert [o.shape[-1] for o in outs] == sorted((o.shape[-1] for o in outs), reverse=True)
    assert outs[0].shape[-1] > outs[2].shape[-1]
    for o, f in zip(outs, feats, strict=True):
        torch.testing.assert_close(o, f[-1])
    # a single PatchGAN shares the interface and keeps the reference's checkpoint keys
    p = PatchDiscriminator(4, 8, 2)
    assert all(k.startswith("model.") for k in p.state_dict())
    torch.testing.assert_close(p.outputs(x)[0], p(x))
    assert len(p.features(x)[0]) == 4  # n_layers + 1 LeakyReLU activations, then the patch map


@pytest.mark.parametrize("scales", [1, 2])
def test_judge_both_equals_two_separate_calls(scales):
    torch.manual_seed(0)
    d = build_discriminator(4, ndf=8, n_layers=2, n_scales=scales)
    real, fake = torch.randn(3, 4, 32, 32), torch.randn(3, 4, 32, 32)
    on_real, on_fake = judge_both(d.outputs, real, fake)
    assert len(on_real) == len(on_fake) == scales
    for got, want in zip([*on_real, *on_fake], [*d.outputs(real), *d.outputs(fake)], strict=True):
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_generator_turn_counts_the_discriminators_own_steps():
    net = torch.nn.Linear(2, 1)
    opt = torch.optim.Adam(net.parameters())
    turns = []
    for _ in range(7):
        turns.append(generator_turn(opt, 3))
        opt.zero_grad()
        net(torch.ones(1, 2)).sum().backward()
        opt.step()
    assert turns == [True, False, False, True, False, False, True]
    assert generator_turn(opt, 1)


# --- translator objectives ----------------------------------------------------------------------------------

VARIANTS = {
    "vanilla": dict(gan_loss="vanilla"),
    "wgan-gp": dict(gan_loss="wgan-gp", n_critic=2),
    "multiscale": dict(d_scales=2),
}


@pytest.mark.parametrize("objective", ["paired", "cyclegan"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_variant_steps_with_finite_losses_and_resumes_exactly(objective, variant, tmp_path):
    extra = dict(VARIANTS[variant])
    if objective == "paired" and variant == "multiscale":
        extra["lambda_fm"] = 10.0  # pix2pixHD: multi-scale D with feature matching
    cfg = TranslatorConfig(head="stokes", mode="none", **TINY, **extra)
    cls = PairedTranslator if objective == "paired" else ConstrainedCycleGAN
    model = cls(cfg, A_CAM, seed=3)
    losses = model.training_step(*_batch(0))
    assert losses and all(math.isfinite(v) for v in losses.values()), losses
    if objective == "paired" and variant == "multiscale":
        assert losses["fm"] > 0
    save_checkpoint(model, tmp_path / "c.pt", step=1, epoch=0)
    for k in range(3):
        model.training_step(*_batch(10 + k))
    resumed, state = load_checkpoint(tmp_path / "c.pt", cfg, resume=True)
    assert type(resumed) is cls and state["config"]["gan_loss"] == cfg.gan_loss
    first = resumed.training_step(*_batch(10))  # with n_critic 2 a critic-only step: it still logs every term
    assert set(first) == set(losses), (first, losses)
    for k in range(1, 3):
        resumed.training_step(*_batch(10 + k))
    for name in model.nets:
        for p, q in zip(getattr(model, name).parameters(), getattr(resumed, name).parameters(), strict=True):
            assert torch.equal(p, q), name


@pytest.mark.parametrize("objective", ["paired", "cyclegan"])
def test_wgan_gp_updates_the_generator_every_n_critic_steps_and_keeps_no_pool(objective):
    cfg = TranslatorConfig(head="stokes", mode="none", gan_loss="wgan-gp", n_critic=3, **TINY)
    cls = PairedTranslator if objective == "paired" else ConstrainedCycleGAN
    model = cls(cfg, A_CAM)
    d_name = model.nets[-1]
    g_moves, d_moves = [], []
    for k in range(6):
        g, d = _params(model.g_ab), _params(getattr(model, d_name))
        losses = model.training_step(*_batch(k))
        g_moves.append(_changed(g, model.g_ab))
        d_moves.append(_changed(d, getattr(model, d_name)))
        assert "g" in losses  # critic-only steps repeat the generator's last terms: every log row is complete
    assert g_moves == [True, False, False, True, False, False] and all(d_moves)
    if objective == "cyclegan":
        assert model.pool_a.size == model.pool_b.size == 0


def test_a_multi_scale_checkpoint_refuses_a_single_scale_run(tmp_path):
    from polaraug.translate import CheckpointError

    cfg = TranslatorConfig(head="stokes", d_scales=2, **TINY)
    save_checkpoint(PairedTranslator(cfg, A_CAM), tmp_path / "m.pt", step=0, epoch=0)
    with pytest.raises(CheckpointError, match="d_scales"):
        load_checkpoint(tmp_path / "m.pt", TranslatorConfig(head="stokes", **TINY))


def test_feature_matching_is_refused_for_the_unpaired_objective():
    with pytest.raises(ConfigError, match="paired"):
        ConstrainedCycleGAN(TranslatorConfig(lambda_fm=10.0, **TINY), A_CAM)
    with pytest.raises(ConfigError, match="lambda_adv"):
        PairedTranslator(TranslatorConfig(lambda_fm=10.0, lambda_adv=0.0, **TINY), A_CAM)
    # each scale halves the crop: a 64 px crop cannot feed three scales of a 3-layer PatchGAN (24 px minimum)
    with pytest.raises(ConfigError, match="at least 93 px"):
        TranslatorConfig(crop=64, n_layers=3, d_scales=3)
    for n_layers, scales in ((2, 1), (3, 2), (2, 3)):
        side = min_input_side(n_layers, scales)
        d = build_discriminator(4, 8, n_layers, scales)
        assert all(o.numel() >= 1 for o in d.outputs(torch.zeros(1, 4, side, side)))
        with pytest.raises((ValueError, RuntimeError)):  # one pixel less leaves the coarsest scale no patch
            d.outputs(torch.zeros(1, 4, side - 1, side - 1))
    for bad in (dict(gan_loss="hinge"), dict(n_critic=0), dict(d_scales=0), dict(lambda_gp=-1.0)):
        with pytest.raises(ConfigError):
            TranslatorConfig(**bad)


def test_cli_trains_a_multiscale_wgan_gp_translator_and_rejects_an_unknown_loss(tmp_path):
    root = tmp_path / "pairs"
    generate(SynthConfig(n=3, width=64, height=48, seed=2), root, workers=1, progress=False)
    base = ["train", "--preset", "cpu-small", "--steps", "2", "--paired", str(root)]
    res = CliRunner().invoke(app, [*base, "--gan-loss", "wgan-gp", "--n-critic", "2", "--d-scales", "2",
                                   "--feature-matching", "10", "--out", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    model, _ = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert (model.cfg.gan_loss, model.cfg.n_critic, model.cfg.d_scales, model.cfg.lambda_fm) == ("wgan-gp", 2, 2, 10.0)
    # a resume keeps the run's adversarial settings, and refuses another loss
    res = CliRunner().invoke(app, ["train", "--preset", "cpu-small", "--steps", "3", "--paired", str(root), "--out",
                                   str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    model, state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert state["step"] == 3 and (model.cfg.gan_loss, model.cfg.d_scales, model.cfg.lambda_fm) == ("wgan-gp", 2, 10.0)
    res = CliRunner().invoke(app, [*base[:4], "4", *base[5:], "--gan-loss", "lsgan", "--out", str(tmp_path / "run")])
    assert res.exit_code == 2 and "gan_loss" in res.output, res.output
    res = CliRunner().invoke(app, [*base, "--gan-loss", "hinge", "--out", str(tmp_path / "bad")])
    assert res.exit_code == 2 and "gan_loss" in res.output, res.output


# --- the pixel-wise conditioned GAN ---------------------------------------------------------------------------

@pytest.mark.parametrize("gan_loss", ["vanilla", "wgan-gp"])
def test_reconstruction_gan_variants_step_and_round_trip(gan_loss, tmp_path):
    cfg = ReconstructConfig(channels=4, ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32, batch=4, pacgan=2,
                            gan_loss=gan_loss, n_critic=2)
    model = PixelConditionedGAN(cfg, A_CAM, seed=1)
    g = torch.Generator().manual_seed(0)
    real = torch.rand(4, 4, 32, 32, generator=g) * 2 - 1
    m = (torch.rand(4, 1, 32, 32, generator=g) < 0.1).float()
    z = torch.randn(4, cfg.nz, 32, 32, generator=g)
    before = _params(model.g)
    first = model.training_step(real, m, z)
    second_g = _params(model.g)
    second = model.training_step(real, m, z)  # n_critic 2: a critic-only step
    assert _changed(before, model.g)
    assert all(torch.equal(p, q) for p, q in zip(second_g, model.g.parameters(), strict=True))
    assert set(first) == set(second) == {"g_adv", "constraint_mse", "d"}
    assert all(np.isfinite(v) for v in (*first.values(), *second.values()))
    save_reconstruction(model, tmp_path / "r.pt", step=2, seed=1)
    loaded, state = load_reconstruction(tmp_path / "r.pt", resume=True)
    assert state["step"] == 2 and loaded.cfg.gan_loss == gan_loss and loaded.cfg.n_critic == 2
    for p, q in zip(model.d.parameters(), loaded.d.parameters(), strict=True):
        assert torch.equal(p, q)
    assert generator_turn(loaded.opt_d, 2)  # the phase survives: two critic steps done, the generator's turn
