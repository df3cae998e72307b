"""The generator's weight average (config ``ema``): same training path, checkpointed, used by inference."""

import pytest
import torch

from polaraug.errors import ConfigError
from polaraug.physics import camera_matrix
from polaraug.translate import CheckpointError, TranslatorConfig, load_checkpoint, load_translator, save_checkpoint
from polaraug.translate.checkpoint import init_generator
from polaraug.translate.paired import PairedTranslator

TINY = dict(ngf=8, n_blocks=1, ndf=8, n_layers=2, crop=32, pool_size=2, head="stokes")
A = torch.as_tensor(camera_matrix(), dtype=torch.float32)


@torch.no_grad()
def _avg(model: PairedTranslator, x: torch.Tensor) -> torch.Tensor:
    return model.g_ema.module(x)


def _batch(seed: int):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, 3, 32, 32, generator=g) * 2 - 1, torch.rand(2, 4, 32, 32, generator=g) * 2 - 1


def _trained(ema: float, steps: int = 4) -> PairedTranslator:
    model = PairedTranslator(TranslatorConfig(ema=ema, **TINY), A, seed=3)
    for k in range(steps):
        model.training_step(*_batch(k))
    return model


def test_the_average_leaves_the_training_path_unchanged_and_lags_the_weights():
    plain, averaged = _trained(0.0), _trained(0.9)
    for p, q in zip(plain.g_ab.parameters(), averaged.g_ab.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    x = _batch(99)[0]
    diff = (_avg(averaged, x) - averaged.translate(x)).abs().max()
    assert diff > 1e-4  # the average is not the last weights
    assert int(averaged.g_ema.n_averaged) == 4


def test_checkpoints_keep_both_inference_uses_the_average_and_resume_is_exact(tmp_path):
    model = _trained(0.9, steps=2)
    path = save_checkpoint(model, tmp_path / "e.pt", step=2, epoch=0)
    x = _batch(50)[0]
    averaged, _ = load_translator(path)
    trained, _ = load_translator(path, average=False)
    torch.testing.assert_close(averaged.translate(x), _avg(model, x))
    torch.testing.assert_close(trained.translate(x), model.translate(x))
    expected = [model.training_step(*_batch(10 + k)) for k in range(2)]
    resumed, _ = load_checkpoint(path, model.cfg, resume=True)
    assert [resumed.training_step(*_batch(10 + k)) for k in range(2)] == expected
    for p, q in zip(resumed.g_ema.parameters(), model.g_ema.parameters(), strict=True):
        torch.testing.assert_close(p, q)


def test_init_starts_from_the_average(tmp_path):
    pre = _trained(0.9, steps=2)
    path = save_checkpoint(pre, tmp_path / "pre.pt", step=2, epoch=0)
    new = PairedTranslator(TranslatorConfig(**TINY), A, seed=7)
    init_generator(new, path)
    x = _batch(60)[0]
    torch.testing.assert_close(new.translate(x), _avg(pre, x))


def test_a_checkpoint_without_the_average_cannot_resume_a_run_that_keeps_one(tmp_path):
    path = save_checkpoint(_trained(0.0, steps=1), tmp_path / "plain.pt", step=1, epoch=0)
    with pytest.raises(CheckpointError, match="plain.pt: has no 'g_ema' network"):
        load_checkpoint(path, TranslatorConfig(ema=0.9, **TINY), resume=True)


@pytest.mark.parametrize("bad", [-0.1, 1.0, 2.0])
def test_ema_outside_its_range_is_refused(bad):
    with pytest.raises(ConfigError, match="'ema' must be 0"):
        TranslatorConfig(ema=bad, **TINY)
