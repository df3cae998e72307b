"""Anti-aliased downsampling in the generator (config ``downsample``): shapes, config, checkpoints, CLI."""


import pytest
import torch
from kornia.filters import BlurPool2D

from polaraug.errors import ConfigError
from polaraug.nn import ResnetGenerator
from polaraug.physics import camera_matrix
from polaraug.translate import CheckpointError, TranslatorConfig, load_translator, save_checkpoint
from polaraug.translate.checkpoint import init_generator
from polaraug.translate.paired import PairedTranslator

TINY = dict(ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32, pool_size=2, head="stokes")
A = torch.as_tensor(camera_matrix(), dtype=torch.float32)


def _strided(g: torch.nn.Module) -> list[torch.nn.Conv2d]:
    return [m for m in g.modules() if isinstance(m, torch.nn.Conv2d) and m.stride != (1, 1)]


@pytest.mark.parametrize("context", [0, 16])
def test_blur_downsampling_keeps_shapes_and_leaves_no_strided_convolution(context):
    g = ResnetGenerator(3, 4, 8, 1, downsample="blur", upsample="resize", context=context)
    assert g(torch.rand(2, 3, 36, 52)).shape == (2, 4, 36, 52)
    assert sum(isinstance(m, BlurPool2D) for m in g.model) == 2
    assert _strided(g.model) == []
    assert len(_strided(ResnetGenerator(3, 4, 8, 1).model)) == 2  # the reference downsamples by stride


def test_blur_pooling_removes_what_stride_two_aliases():
    # A feature map of period 2 (alternating columns) subsampled by 2 becomes a constant whose sign depends on
    # the phase: a one-pixel shift of the input flips the output. Blurred first, both phases give the same.
    x = torch.tensor([1.0, -1.0]).repeat(16).expand(1, 1, 32, 32).contiguous()
    shifted = torch.roll(x, 1, dims=-1)
    strided = x[..., ::2, ::2], shifted[..., ::2, ::2]
    assert not torch.allclose(*strided)
    blur = BlurPool2D(3, stride=2)
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))  # away from the zero padding
    torch.testing.assert_close(blur(x)[inner], blur(shifted)[inner])


def test_the_setting_is_checked_saved_and_refused_by_init_with_another_generator(tmp_path):
    with pytest.raises(ConfigError, match="'downsample' must be one of"):
        TranslatorConfig(downsample="maxpool", **TINY)
    model = PairedTranslator(TranslatorConfig(downsample="blur", **TINY), A, seed=1)
    path = save_checkpoint(model, tmp_path / "b.pt", step=1, epoch=0)
    loaded, _ = load_translator(path)
    assert loaded.cfg.downsample == "blur"
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    torch.testing.assert_close(loaded.translate(x), model.translate(x))
    with pytest.raises(CheckpointError, match="--init needs a generator like"):
        init_generator(PairedTranslator(TranslatorConfig(**TINY), A, seed=2), path)


def test_checkpoints_from_before_the_setting_load_as_stride(tmp_path):
    model = PairedTranslator(TranslatorConfig(**TINY), A, seed=1)
    state = torch.load(save_checkpoint(model, tmp_path / "new.pt", step=1, epoch=0), weights_only=True)
    del state["config"]["downsample"]  # what a checkpoint written before the setting existed holds
    torch.save(state, tmp_path / "old.pt")
    loaded, raw = load_translator(tmp_path / "old.pt")
    assert "downsample" not in raw["config"] and loaded.cfg.downsample == "stride"
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    torch.testing.assert_close(loaded.translate(x), model.translate(x))
