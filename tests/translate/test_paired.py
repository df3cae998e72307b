"""The Stokes head, the paired objective, --init and the paired anchor."""

import math

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from polaraug.cameras import load_camera
from polaraug.cli import app
from polaraug.physics import calibration_residual, camera_matrix, inadmissible_fraction, stokes_from_intensities
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import (
    CheckpointError,
    ConstrainedCycleGAN,
    TranslatorConfig,
    load_checkpoint,
    load_translator,
    save_checkpoint,
)
from polaraug.translate.checkpoint import init_generator
from polaraug.translate.data import PairedCrops, scan_pairs
from polaraug.translate.losses import aolp_cosine_loss, dolp_gradient_loss, dolp_l1_loss, dolp_pair, paired_terms
from polaraug.translate.model import StokesHead
from polaraug.translate.paired import PairedTranslator

TINY = dict(ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32, pool_size=2)
A_CAM = torch.as_tensor(camera_matrix([1, 44, 91, 134], [1.02, 0.98, 1.0, 0.99], [100, 80, 120, 90]),
                        dtype=torch.float32)


def _batch(seed: int, n: int = 2, size: int = 32):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1, torch.rand(n, 4, size, size, generator=g) * 2 - 1


class _Const(torch.nn.Module):
    """A 'network' whose raw outputs are fixed planes (to reach the head's edge cases)."""

    def __init__(self, values):
        super().__init__()
        self.values = torch.nn.Parameter(torch.tensor(values, dtype=torch.float32).view(1, 4, 1, 1))

    def forward(self, x):
        return self.values.expand(x.shape[0], 4, *x.shape[2:])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stokes_head_is_admissible_and_residual_free_for_random_weights(seed):
    torch.manual_seed(seed)
    model = PairedTranslator(TranslatorConfig(head="stokes", **TINY), A_CAM, seed=seed)
    for p in model.g_ab.parameters():  # random weights far from the init, large raw outputs
        p.data.normal_(0, 0.5)
    y = ((model.translate(_batch(seed)[0]) + 1) / 2).double()
    s = stokes_from_intensities(y, A_CAM.double())
    assert torch.isfinite(y).all()
    assert inadmissible_fraction(s, tol=1e-6) == 0.0
    assert calibration_residual(y, A_CAM.double()).abs().max() < 1e-5
    assert (s[:, 0] >= 0).all() and (s[:, 0] <= 2 + 1e-6).all()  # s0 = 2 sigmoid(.) in [0, 2]


def test_stokes_head_gradients_are_finite_where_the_angle_is_undefined():
    # u = v = 0: AoLP undefined; d = -30: DoLP ~ 0; δ large: s0 near its bound.
    for raw in ([0.0, 0.0, 0.0, 0.0], [20.0, -30.0, 0.0, 0.0], [-20.0, 30.0, 1e-9, -1e-9]):
        head = StokesHead(_Const(raw), A_CAM.clone())
        x = (torch.rand(1, 3, 8, 8) * 2 - 1).requires_grad_(True)
        head(x).sum().backward()
        assert torch.isfinite(head.net.values.grad).all(), raw
        assert torch.isfinite(x.grad).all(), raw


def test_stokes_head_reads_back_what_it_predicts():
    # δ = 0 -> s0 = 2L; d = 0 -> DoLP ½; (u, v) = (0, 3) -> 2φ = 90°, AoLP 45°.
    head = StokesHead(_Const([0.0, 0.0, 0.0, 3.0]), A_CAM.clone())
    x = torch.full((1, 3, 4, 4), 0.2)  # luminance (0.2 + 1) / 2 = 0.6
    s = head.stokes(x)
    torch.testing.assert_close(s[0, :, 0, 0], torch.tensor([1.2, 0.0, 0.6]), atol=1e-5, rtol=0)
    y = (head(x) + 1) / 2
    torch.testing.assert_close(stokes_from_intensities(y.double(), A_CAM.double())[0, :, 0, 0].float(),
                               torch.tensor([1.2, 0.0, 0.6]), atol=1e-5, rtol=0)


def test_aolp_term_is_zero_on_truth_and_follows_the_angle():
    st = torch.zeros(1, 3, 2, 2)
    st[:, 0], st[:, 1] = 1.0, 0.5  # DoLP ½, AoLP 0
    assert float(aolp_cosine_loss(st, st)) == pytest.approx(0.0, abs=1e-6)
    for deg in (10, 45, 90):
        sp = st.clone()
        sp[:, 1], sp[:, 2] = 0.5 * math.cos(math.radians(2 * deg)), 0.5 * math.sin(math.radians(2 * deg))
        assert float(aolp_cosine_loss(sp, st)) == pytest.approx(1 - math.cos(math.radians(2 * deg)), abs=1e-4)
    unpolarized = st.clone()
    unpolarized[:, 1:] = 0  # weight 0 everywhere: the angle does not count
    assert float(aolp_cosine_loss(sp, unpolarized)) == pytest.approx(0.0, abs=1e-6)


def test_dolp_term_weighs_dark_pixels_like_bright_ones():
    # Two pixels with the same DoLP error (true 0.6, predicted 0.3, same angle), one 20x darker.
    st = torch.tensor([[1.0, 0.6, 0.0], [0.05, 0.03, 0.0]]).T.reshape(1, 3, 1, 2)
    sp = torch.tensor([[1.0, 0.3, 0.0], [0.05, 0.015, 0.0]]).T.reshape(1, 3, 1, 2)
    assert float(dolp_l1_loss(*dolp_pair(st, st))) == pytest.approx(0.0, abs=1e-4)
    assert float(dolp_l1_loss(*dolp_pair(sp, st))) == pytest.approx(0.3, abs=1e-4)
    per_pixel = [float(dolp_l1_loss(*dolp_pair(sp[..., k:k + 1], st[..., k:k + 1]))) for k in (0, 1)]
    assert per_pixel[0] == pytest.approx(per_pixel[1], abs=1e-4)
    # The Stokes L1 term sees the dark pixel's error 20x smaller: what the DoLP term corrects.
    y = lambda s: torch.einsum("ij,bjhw->bihw", A_CAM, s) * 2 - 1  # noqa: E731
    cfg = TranslatorConfig(lambda_l1=0.0, lambda_aolp=0.0, lambda_dolp=1.0)
    dark = paired_terms(y(sp[..., 1:]), y(st[..., 1:]), A_CAM, cfg)
    bright = paired_terms(y(sp[..., :1]), y(st[..., :1]), A_CAM, cfg)
    assert float(dark["stokes"]) == pytest.approx(float(bright["stokes"]) / 20, rel=1e-2)
    assert float(dark["dolp"]) == pytest.approx(float(bright["dolp"]), abs=1e-3)


def test_dolp_gradient_term_rewards_the_truths_edges_and_nothing_else():
    st = torch.zeros(1, 3, 16, 16)
    st[:, 0], st[:, 1, :, 8:] = 1.0, 0.5  # DoLP 0 | 0.5: one vertical edge
    # the norm floor: the predicted DoLP is 1e-4 where the true one is 0
    assert float(dolp_gradient_loss(*dolp_pair(st, st))) == pytest.approx(0.0, abs=1e-5)
    blurred = st.clone()
    blurred[:, 1] = torch.linspace(0, 0.5, 16).expand(16, 16)  # the same two sides, no edge
    noisy = st.clone()
    noisy[:, 1] += 0.05 * torch.rand(16, 16, generator=torch.Generator().manual_seed(0))  # edges where none are
    assert float(dolp_gradient_loss(*dolp_pair(blurred, st))) > 0.01
    assert float(dolp_gradient_loss(*dolp_pair(noisy, st))) > 0.005
    # the mean DoLP error of a blur is what the DoLP L1 sees; the gradient term sees the lost edge as well
    cfg = TranslatorConfig(lambda_l1=0.0, lambda_stokes=0.0, lambda_aolp=0.0, lambda_dolp_grad=2.0)
    y = lambda s: torch.einsum("ij,bjhw->bihw", A_CAM, s) * 2 - 1  # noqa: E731
    terms = paired_terms(y(blurred), y(st), A_CAM, cfg)
    assert set(terms) == {"dolp_grad"}
    assert float(terms["dolp_grad"]) == pytest.approx(2 * float(dolp_gradient_loss(*dolp_pair(blurred, st))), rel=1e-3)


def test_dolp_term_has_finite_gradients_on_black_pixels():
    sp = torch.zeros(1, 3, 2, 2, requires_grad=True)
    st = torch.zeros(1, 3, 2, 2)
    (dolp_l1_loss(*dolp_pair(sp, st)) + dolp_gradient_loss(*dolp_pair(sp, st))).backward()
    assert torch.isfinite(sp.grad).all()


@pytest.mark.parametrize("head", ["intensities", "stokes"])
def test_paired_steps_lower_the_loss_on_a_fixed_batch(head):
    model = PairedTranslator(TranslatorConfig(head=head, mode="project", lambda_adv=0.0, lr=1e-3, **TINY), A_CAM)
    rgb, _ = _batch(3)
    with torch.no_grad():  # a learnable target: a fixed smooth function of the input, admissible
        s0 = (rgb.mean(1, keepdim=True) + 1) / 2 + 0.2
        s = torch.cat([s0, 0.3 * s0 * torch.ones_like(s0), -0.2 * s0 * torch.ones_like(s0)], 1)
        polar = torch.einsum("ij,bjhw->bihw", A_CAM, s) * 2 - 1
    first = model.training_step(rgb, polar)
    for _ in range(40):
        last = model.training_step(rgb, polar)
    assert set(first) == {"l1", "stokes", "aolp", "g"}  # λ_adv = 0: no discriminator
    assert last["g"] < 0.5 * first["g"], (first, last)


def test_paired_step_reports_the_dolp_term_when_weighted():
    model = PairedTranslator(TranslatorConfig(head="stokes", lambda_adv=0.0, lambda_dolp=10.0, **TINY), A_CAM)
    losses = model.training_step(*_batch(5))
    assert {"l1", "stokes", "aolp", "dolp"} <= set(losses) and np.isfinite(losses["dolp"]) and losses["dolp"] > 0


def test_paired_step_with_discriminator_updates_both_networks():
    model = PairedTranslator(TranslatorConfig(head="stokes", **TINY), A_CAM)
    before = {n: [p.detach().clone() for p in getattr(model, n).parameters()] for n in model.nets}
    losses = model.training_step(*_batch(4))
    assert {"adv", "d"} <= set(losses) and all(np.isfinite(v) for v in losses.values())
    for n, params in before.items():
        assert any(not torch.equal(p, q) for p, q in zip(params, getattr(model, n).parameters(), strict=True)), n


def test_paired_checkpoints_resume_exactly_and_load_for_inference(tmp_path):
    cfg = TranslatorConfig(head="stokes", **TINY)
    model = PairedTranslator(cfg, A_CAM, seed=5)
    model.training_step(*_batch(10))
    save_checkpoint(model, tmp_path / "p.pt", step=1, epoch=0)
    expected = [model.training_step(*_batch(20 + k)) for k in range(2)]
    resumed, state = load_checkpoint(tmp_path / "p.pt", cfg, resume=True)
    assert isinstance(resumed, PairedTranslator) and state["objective"] == "paired"
    assert [resumed.training_step(*_batch(20 + k)) for k in range(2)] == expected
    translator, _ = load_translator(tmp_path / "p.pt")  # what translate and eval-translator load
    assert not translator.training and translator.cfg.head == "stokes"
    x = _batch(30)[0]
    fresh, _ = load_checkpoint(tmp_path / "p.pt")
    torch.testing.assert_close(translator.translate(x), fresh.translate(x))


def test_init_copies_the_generator_keeps_the_camera_and_refuses_other_architectures(tmp_path):
    pre = PairedTranslator(TranslatorConfig(head="stokes", **TINY), camera_matrix(), seed=1)
    pre.training_step(*_batch(1))
    save_checkpoint(pre, tmp_path / "pre.pt", step=1, epoch=0)
    cyc = ConstrainedCycleGAN(TranslatorConfig(head="stokes", mode="none", **TINY), A_CAM, seed=2)
    init_generator(cyc, tmp_path / "pre.pt")
    for (name, p), q in zip(pre.g_ab.net.state_dict().items(), cyc.g_ab.net.state_dict().values(), strict=True):
        torch.testing.assert_close(p, q, msg=name)
    torch.testing.assert_close(cyc.g_ab.a, A_CAM)  # the new run's camera, not the checkpoint's
    x = _batch(2)[0]
    s_pre, s_new = pre.g_ab.stokes(x), cyc.g_ab.stokes(x)  # same physics, another camera
    torch.testing.assert_close(s_pre, s_new)
    with pytest.raises(CheckpointError, match=r"pre.pt: --init needs a generator like this run's .*'head': "
                                              r"'intensities'.*'head': 'stokes'"):
        init_generator(ConstrainedCycleGAN(TranslatorConfig(head="intensities", **TINY), A_CAM), tmp_path / "pre.pt")
    with pytest.raises(CheckpointError, match="'ngf': 16"):
        init_generator(ConstrainedCycleGAN(TranslatorConfig(head="stokes", **{**TINY, "ngf": 16}), A_CAM),
                       tmp_path / "pre.pt")


def test_checkpoints_from_before_the_stokes_head_load_as_intensities(tmp_path):
    model = ConstrainedCycleGAN(TranslatorConfig(head="intensities", mode="project", **TINY), A_CAM)
    path = save_checkpoint(model, tmp_path / "old.pt", step=0, epoch=0)
    state = torch.load(path, weights_only=True)
    del state["config"]["head"], state["objective"]  # what earlier versions wrote
    torch.save(state, path)
    translator, _ = load_translator(path)
    assert translator.cfg.head == "intensities" and TranslatorConfig().head == "stokes"
    x = _batch(5)[0]
    torch.testing.assert_close(translator.translate(x), model.translate(x))


def test_anchor_term_joins_the_cyclegan_loss():
    cfg = TranslatorConfig(head="stokes", mode="none", lambda_anchor=0.5, **TINY)
    model = ConstrainedCycleGAN(cfg, A_CAM)
    losses = model.training_step(*_batch(1), anchor=_batch(2))
    assert losses["anchor"] > 0 and np.isfinite(losses["anchor"])
    assert "anchor" not in model.training_step(*_batch(3))


@pytest.fixture(scope="module")
def paired(tmp_path_factory):
    root = tmp_path_factory.mktemp("paired")
    generate(SynthConfig(n=5, width=64, height=48, seed=4), root, workers=1, progress=False)
    return root


def test_paired_crops_are_aligned_twins_and_convert_between_cameras(paired):
    ideal = load_camera("ideal")
    rgb, polar = scan_pairs(paired)
    assert [p.stem for p in rgb] == [f.name.split("/")[-1].rsplit(".", 1)[0] for f in polar]
    assert all(f.name.startswith("train/") for f in polar)  # the val split stays held out
    data = PairedCrops.from_folder(paired, ideal, crop=32, batch=2, seed=1)
    x, y = data.batch_at(0)
    assert x.shape == (2, 3, 32, 32) and y.shape == (2, 4, 32, 32)
    x2, y2 = data.batch_at(0)
    assert torch.equal(x, x2) and torch.equal(y, y2)  # a function of (seed, step)
    # Aligned: the polarimetric s0 follows the RGB luminance of the same window (correlation across pixels).
    lum = ((x + 1) / 2).mean(1).flatten()
    s0 = ((y + 1) / 2).sum(1).flatten() / 2
    assert np.corrcoef(lum.numpy(), s0.numpy())[0, 1] > 0.5
    other = load_camera("sony_imx250mzr")
    conv = PairedCrops.from_folder(paired, ideal, crop=32, batch=2, seed=1, to_camera=other)
    _, yc = conv.batch_at(0)
    s_ideal = stokes_from_intensities((y.double() + 1) / 2, torch.as_tensor(ideal.matrix(), dtype=torch.float64))
    s_other = stokes_from_intensities((yc.double() + 1) / 2, torch.as_tensor(other.matrix(), dtype=torch.float64))
    torch.testing.assert_close(s_ideal, s_other, atol=1e-5, rtol=1e-4)  # the same light, another camera


def test_cli_paired_training_then_init_and_bad_combinations(paired, tmp_path):
    runner = CliRunner()
    base = ["train", "--preset", "cpu-small", "--steps", "2", "--head", "stokes"]
    res = runner.invoke(app, [*base, "--paired", str(paired), "--dolp-weight", "10", "--out", str(tmp_path / "pre")])
    assert res.exit_code == 0, res.output
    pre = tmp_path / "pre" / "checkpoints" / "last.pt"
    assert load_checkpoint(pre)[0].cfg.lambda_dolp == 10.0
    res = runner.invoke(app, [*base, "--rgb", str(paired / "rgb"), "--polar", str(paired / "polar"), "--out",
                              str(tmp_path / "ad"), "--init", str(pre), "--anchor", str(paired),
                              "--anchor-weight", "0.1"])
    assert res.exit_code == 0, res.output
    model, state = load_checkpoint(tmp_path / "ad" / "checkpoints" / "last.pt")
    assert state["objective"] == "cyclegan" and model.cfg.lambda_anchor == 0.1
    for bad, msg in (([*base, "--paired", str(paired), "--rgb", str(paired / "rgb")], "give one of --rgb"),
                     ([*base, "--rgb", str(paired / "rgb")], "both --rgb and --polar"),
                     (["train", "--preset", "cpu-small", "--head", "intensities", "--paired", str(paired),
                       "--init", str(pre)], "head")):
        res = runner.invoke(app, [*bad, "--out", str(tmp_path / "bad")])
        assert res.exit_code == 2 and msg in res.output, res.output
