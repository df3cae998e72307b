"""The sensor model: its noise has the variance it promises per channel, read-out quantises and keeps dark
noise around zero, both demosaicing methods put every channel where it belongs, draws follow the seed, and
synth renders through it unchanged."""

import numpy as np
import pytest

from polaraug.physics import mosaic
from polaraug.physics.sensor import SensorModel, capture, edge_aware_demosaic

PATTERN = ((90, 45), (135, 0))  # channels: 90 -> 2, 45 -> 1, 135 -> 3, 0 -> 0


def _flat(value=0.3, h=256, w=256):
    return np.full((h, w, 4), value, np.float32)


def test_noise_variance_is_a_x_plus_b_per_channel():
    a, b = (1e-3, 2e-3, 4e-3, 8e-3), (1e-5, 1e-5, 2e-5, 4e-5)
    out = capture(_flat(0.3), SensorModel(noise_a=a, noise_b=b), np.random.default_rng(0))
    var = out.reshape(-1, 4).var(axis=0)
    assert var == pytest.approx([ai * 0.3 + bi for ai, bi in zip(a, b, strict=True)], rel=0.03)
    assert out.mean() == pytest.approx(0.3, abs=1e-3)


def test_dofp_noise_is_per_raw_sample_and_each_sample_keeps_its_channel():
    a = (1e-3, 2e-3, 4e-3, 8e-3)
    model = SensorModel(noise_a=a, dofp_pattern=PATTERN)
    out = capture(_flat(0.3), model, np.random.default_rng(1))
    # at its own raw sample a channel is the sample itself (bilinear): the variance of that channel's draw
    own = {2: out[0::2, 0::2, 2], 1: out[0::2, 1::2, 1], 3: out[1::2, 0::2, 3], 0: out[1::2, 1::2, 0]}
    for c, samples in own.items():
        assert samples.var() == pytest.approx(a[c] * 0.3, rel=0.06), c
        # elsewhere the channel is interpolated from several samples: less variance
        assert out[..., c].var() < samples.var()


def test_read_out_quantises_and_keeps_dark_noise_around_zero():
    model = SensorModel(noise_b=(1e-4,) * 4, bits=8, black_level=0.05)
    out = capture(_flat(0.0), model, np.random.default_rng(2))
    steps = (out + 0.05) * 255
    assert np.allclose(steps, np.round(steps), atol=1e-3)  # multiples of 1/255 before the pedestal is removed
    assert out.min() < 0 and abs(out.mean()) < 2e-3  # a clipped read-out would sit well above 0
    clipped = capture(_flat(0.0), SensorModel(noise_b=(1e-4,) * 4, bits=8), np.random.default_rng(2))
    assert clipped.min() >= 0 and clipped.mean() > 3e-3


@pytest.mark.parametrize("method", ["bilinear", "edge-aware"])
def test_demosaicing_puts_every_channel_in_its_place(method):
    values = np.array([0.1, 0.35, 0.6, 0.85], np.float32)
    y = np.broadcast_to(values, (32, 48, 4)).copy()
    out = capture(y, SensorModel(dofp_pattern=PATTERN, demosaic=method), np.random.default_rng(0))
    assert np.abs(out - values).max() < 2e-4


def test_edge_aware_follows_a_smooth_scene_as_closely_as_bilinear():
    import cv2

    y = cv2.GaussianBlur(np.random.default_rng(3).random((64, 64, 4)).astype(np.float32), (0, 0), 4)
    raw = mosaic(y, PATTERN)
    from polaraug.physics import demosaic

    ea = np.abs(edge_aware_demosaic(raw, PATTERN) - y)[2:-2, 2:-2].mean()
    bl = np.abs(demosaic(raw, PATTERN) - y)[2:-2, 2:-2].mean()
    assert ea < 2 * bl + 1e-4 and ea < 5e-3


def test_the_same_seed_draws_the_same_frame_and_blur_and_tone_apply():
    model = SensorModel(noise_a=(1e-3,) * 4, noise_b=(1e-5,) * 4, dofp_pattern=PATTERN, bits=12)
    y = np.random.default_rng(4).random((16, 16, 4)).astype(np.float32)
    first = capture(y, model, np.random.default_rng(7))
    assert np.array_equal(first, capture(y, model, np.random.default_rng(7)))
    assert not np.array_equal(first, capture(y, model, np.random.default_rng(8)))
    step = np.zeros((8, 16, 4), np.float32)
    step[:, 8:] = 1.0
    blurred = capture(step, SensorModel(blur_sigma=1.5), np.random.default_rng(0))
    assert 0.05 < blurred[0, 7, 0] < 0.5 < blurred[0, 8, 0] < 0.95
    toned = capture(_flat(0.25, 4, 4), SensorModel(gamma=2.0), np.random.default_rng(0))
    assert np.allclose(toned, 0.5)


def test_bad_sensor_settings_are_refused():
    for kw in ({"noise_a": (1.0, 1.0, 1.0)}, {"noise_b": (-1.0, 0, 0, 0)}, {"demosaic": "vng"},
               {"black_level": 1.0}, {"gamma": 0.0}, {"bits": 17}):
        with pytest.raises(ValueError):
            SensorModel(**kw)


def test_synth_renders_through_the_sensor_model_unchanged():
    from polaraug.synth.sensor import SensorConfig, add_noise

    cfg = SensorConfig(read_noise=0.003, shot_noise=0.001, dofp_pattern=PATTERN)
    y = np.random.default_rng(5).random((16, 16, 4)).astype(np.float32)
    expected = y + np.random.default_rng(6).standard_normal(y.shape, dtype=np.float32) * np.sqrt(
        np.float32(0.001) * y + np.float32(0.003**2))
    assert np.array_equal(add_noise(y, cfg, np.random.default_rng(6)), expected)
    model = cfg.model()
    assert model.noise_a == (0.001,) * 4 and model.noise_b == (0.003**2,) * 4 and model.bits is None
