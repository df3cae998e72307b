"""Encoder-to-decoder skips in the generator (config ``skips``): what they carry, config, checkpoints, CLI."""

import pytest
import torch

from polaraug.errors import ConfigError
from polaraug.nn import ResnetGenerator
from polaraug.physics import camera_matrix
from polaraug.translate import CheckpointError, TranslatorConfig, load_translator, save_checkpoint
from polaraug.translate.backends import network_key
from polaraug.translate.checkpoint import init_generator
from polaraug.translate.paired import PairedTranslator

TINY = dict(ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32, pool_size=2, head="stokes")
A = torch.as_tensor(camera_matrix(), dtype=torch.float32)


def _silence_decoder(g: ResnetGenerator) -> None:
    """Zero the last upsampling's weights: without skips the full-resolution decoder then carries nothing."""
    ups = [m for m in g.model if isinstance(m, (torch.nn.ConvTranspose2d, torch.nn.Sequential))]
    for p in ups[-1].parameters():
        torch.nn.init.zeros_(p)


@pytest.mark.parametrize(("downsample", "upsample", "context"), [("stride", "transpose", 0), ("blur", "resize", 16)])
@pytest.mark.parametrize("skips", [0, 1, 2])
def test_skips_keep_shapes_and_weights(skips, downsample, upsample, context):
    g = ResnetGenerator(3, 4, 8, 1, downsample=downsample, upsample=upsample, context=context, skips=skips)
    assert g(torch.rand(2, 3, 36, 52)).shape == (2, 4, 36, 52)
    plain = ResnetGenerator(3, 4, 8, 1, downsample=downsample, upsample=upsample, context=context)
    assert g.state_dict().keys() == plain.state_dict().keys()  # no new weights: a graph change only
    assert len(g.skip_pairs) == skips  # (forward above adds each pair: their shapes match, no broadcasting)

def test_a_full_resolution_skip_carries_the_input_past_a_silent_decoder():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 32, 32)
    for skips, varies in ((0, False), (1, True)):
        g = ResnetGenerator(3, 4, 8, 1, skips=skips)
        g.load_state_dict(ResnetGenerator(3, 4, 8, 1).state_dict())
        _silence_decoder(g)
        y = g(x)
        assert (y.std(dim=(-2, -1)).max() > 1e-3) == varies, skips  # without: a constant image


def test_the_setting_is_checked_saved_keyed_and_refused_by_init_with_another_generator(tmp_path):
    with pytest.raises(ConfigError, match="'skips' must be one of"):
        TranslatorConfig(skips=3, **TINY)
    with pytest.raises(ValueError, match="skips must be one of"):
        ResnetGenerator(3, 4, 8, 1, skips=-1)
    model = PairedTranslator(TranslatorConfig(skips=2, **TINY), A, seed=1)
    path = save_checkpoint(model, tmp_path / "s.pt", step=1, epoch=0)
    loaded, _ = load_translator(path)
    assert loaded.cfg.skips == 2
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    torch.testing.assert_close(loaded.translate(x), model.translate(x))
    with pytest.raises(CheckpointError, match="--init needs a generator like"):
        init_generator(PairedTranslator(TranslatorConfig(**TINY), A, seed=2), path)
    same_weights = ResnetGenerator(3, 4, 8, 1)
    skipped = ResnetGenerator(3, 4, 8, 1, skips=1)
    skipped.load_state_dict(same_weights.state_dict())
    assert network_key(skipped) != network_key(same_weights)  # the ONNX cache does not confuse them


def test_checkpoints_from_before_the_setting_load_without_skips(tmp_path):
    model = PairedTranslator(TranslatorConfig(**TINY), A, seed=1)
    state = torch.load(save_checkpoint(model, tmp_path / "new.pt", step=1, epoch=0), weights_only=True)
    del state["config"]["skips"]
    torch.save(state, tmp_path / "old.pt")
    loaded, _ = load_translator(tmp_path / "old.pt")
    assert loaded.cfg.skips == 0
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    torch.testing.assert_close(loaded.translate(x), model.translate(x))
