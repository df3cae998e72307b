"""The paired discriminator's view of the polarization (config ``d_view``): what it adds, config, checkpoints."""

import math

import pytest
import torch
import yaml
from typer.testing import CliRunner

from polaraug.cli import app
from polaraug.errors import ConfigError
from polaraug.physics import camera_matrix
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate import CheckpointError, TranslatorConfig, load_checkpoint, save_checkpoint
from polaraug.translate.cyclegan import ConstrainedCycleGAN
from polaraug.translate.paired import PairedTranslator, polarization_view

TINY = dict(ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32, pool_size=2, head="stokes")
A = torch.as_tensor(camera_matrix(), dtype=torch.float32)


def _intensities(s0: float, dolp: float, aolp_deg: float, size: int = 8) -> torch.Tensor:
    """Model-unit intensities (1, 4, size, size) of one uniform Stokes vector seen by camera ``A``."""
    phi = math.radians(aolp_deg)
    s = torch.tensor([s0, s0 * dolp * math.cos(2 * phi), s0 * dolp * math.sin(2 * phi)])
    y = (A @ s)[None, :, None, None].expand(1, 4, size, size)
    return y * 2 - 1


@pytest.mark.parametrize(("s0", "dolp", "aolp"), [(0.5, 0.2, 30.0), (0.1, 0.6, -60.0), (0.9, 0.0, 0.0)])
def test_the_view_is_dolp_times_the_aolp_vector_whatever_the_brightness(s0, dolp, aolp):
    view = polarization_view(_intensities(s0, dolp, aolp), A)
    phi = math.radians(aolp)
    expected = torch.tensor([dolp * math.cos(2 * phi), dolp * math.sin(2 * phi)])
    assert view.shape == (1, 2, 8, 8)
    torch.testing.assert_close(view[0, :, 3, 3], expected, atol=1e-5, rtol=0)


def test_black_pixels_give_a_bounded_view_with_finite_gradients():
    polar = torch.full((1, 4, 8, 8), -1.0, requires_grad=True)  # s0 = 0
    view = polarization_view(polar + 1e-4 * torch.randn(1, 4, 8, 8), A)
    view.sum().backward()
    assert view.abs().max() <= 1 and torch.isfinite(polar.grad).all()


def test_the_discriminator_sees_nine_channels_and_trains():
    model = PairedTranslator(TranslatorConfig(d_view="polarization", **TINY), A, seed=1)
    plain = PairedTranslator(TranslatorConfig(**TINY), A, seed=1)
    first = [m for m in model.d_pair.modules() if isinstance(m, torch.nn.Conv2d)][0]
    first_plain = [m for m in plain.d_pair.modules() if isinstance(m, torch.nn.Conv2d)][0]
    assert (first.in_channels, first_plain.in_channels) == (9, 7)
    rgb, polar = torch.rand(2, 3, 32, 32) * 2 - 1, _intensities(0.4, 0.3, 45.0, 32).expand(2, -1, -1, -1)
    before = first.weight.detach().clone()
    out = model.training_step(rgb, polar)
    assert math.isfinite(out["g"]) and math.isfinite(out["d"])
    assert (first.weight[:, 7:] - before[:, 7:]).abs().max() > 0  # the view's channels were learned from


def test_the_setting_is_checked_saved_and_refused_by_a_checkpoint_of_the_other_view(tmp_path):
    with pytest.raises(ConfigError, match="'d_view' must be one of"):
        TranslatorConfig(d_view="dolp", **TINY)
    with pytest.raises(ConfigError, match="'d_view' 'polarization' is for the paired objective"):
        ConstrainedCycleGAN(TranslatorConfig(d_view="polarization", **TINY), A, seed=1)
    model = PairedTranslator(TranslatorConfig(d_view="polarization", **TINY), A, seed=1)
    path = save_checkpoint(model, tmp_path / "v.pt", step=1, epoch=0)
    assert load_checkpoint(path)[0].cfg.d_view == "polarization"
    with pytest.raises(CheckpointError, match="trained with architecture"):
        load_checkpoint(path, TranslatorConfig(**TINY))


def test_checkpoints_from_before_the_setting_load_with_the_intensities_view(tmp_path):
    model = PairedTranslator(TranslatorConfig(**TINY), A, seed=1)
    state = torch.load(save_checkpoint(model, tmp_path / "new.pt", step=1, epoch=0), weights_only=True)
    del state["config"]["d_view"]
    torch.save(state, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt")[0].cfg.d_view == "intensities"


def test_a_resume_without_the_config_keeps_the_view(tmp_path):
    paired = tmp_path / "paired"
    generate(SynthConfig(n=3, width=64, height=48, seed=4), paired, workers=1, progress=False)
    config = tmp_path / "view.yaml"
    config.write_text(yaml.safe_dump({"preset": "cpu-small", "d_view": "polarization"}))
    base = ["train", "--paired", str(paired), "--out", str(tmp_path / "run")]
    res = CliRunner().invoke(app, [*base, "--config", str(config), "--steps", "2"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, [*base, "--preset", "cpu-small", "--steps", "3"])
    assert res.exit_code == 0, res.output
    model, state = load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    assert model.cfg.d_view == "polarization" and state["step"] == 3
