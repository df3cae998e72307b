import numpy as np
import pytest
import torch

from polaraug.physics import demosaic, mosaic, pattern_channels, to_float

SONY = [[90, 45], [135, 0]]
POLARCAM = [[45, 0], [90, 135]]


def smooth_field(h: int, w: int) -> np.ndarray:
    """(H, W, 4) smooth, low-frequency intensities in [0.1, 0.9]."""
    yy, xx = np.mgrid[0:h, 0:w] / 100.0
    chans = [0.5 + 0.3 * np.sin(xx + k) * np.cos(0.7 * yy - k) for k in range(4)]
    return np.stack(chans, axis=-1).astype(np.float32)


@pytest.mark.parametrize("pattern", [SONY, POLARCAM])
def test_demosaic_of_mosaic_recovers_a_smooth_field(pattern):
    y = smooth_field(64, 80)
    rec = demosaic(mosaic(y, pattern), pattern)
    assert rec.shape == y.shape
    # Interior error is the bilinear interpolation error of a field with curvature ~1e-4 / px².
    np.testing.assert_allclose(rec[2:-2, 2:-2], y[2:-2, 2:-2], atol=2e-4)
    np.testing.assert_allclose(rec, y, atol=5e-3)  # borders: one-sided neighbours


@pytest.mark.parametrize("pattern", [SONY, POLARCAM])
def test_known_samples_are_kept_exactly(pattern, rng):
    raw = rng.uniform(0, 1, (10, 12)).astype(np.float32)
    rec = demosaic(raw, pattern)
    np.testing.assert_array_equal(mosaic(rec, pattern), raw)


def test_sony_layout_puts_90_top_left():
    raw = np.array([[1, 2], [3, 4]], dtype=np.float32)  # 90°, 45° / 135°, 0°
    sp = demosaic(raw, SONY, "superpixel")
    np.testing.assert_array_equal(sp[0, 0], [4, 2, 1, 3])  # (I0, I45, I90, I135)
    np.testing.assert_array_equal(pattern_channels(SONY), [[2, 1], [3, 0]])


def test_superpixel_is_inverse_of_mosaic_on_blocky_images(rng):
    small = rng.uniform(0, 1, (5, 6, 4)).astype(np.float32)
    big = np.repeat(np.repeat(small, 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(demosaic(mosaic(big, SONY), SONY, "superpixel"), small)


def test_torch_batch_agrees_with_numpy(rng):
    raws = rng.uniform(0, 1, (3, 8, 10)).astype(np.float32)
    out_t = demosaic(torch.from_numpy(raws), POLARCAM)
    assert out_t.shape == (3, 4, 8, 10)
    for i in range(3):
        np.testing.assert_allclose(out_t[i].permute(1, 2, 0).numpy(), demosaic(raws[i], POLARCAM), atol=1e-6)
    np.testing.assert_array_equal(mosaic(out_t, POLARCAM).numpy(), raws)


def test_odd_sizes_and_integer_mosaics():
    y8 = (smooth_field(7, 9) * 255).astype(np.uint8)
    raw = mosaic(y8, SONY)
    assert raw.dtype == np.uint8 and raw.shape == (7, 9)
    rec = demosaic(to_float(raw), SONY)
    assert rec.shape == (7, 9, 4) and np.isfinite(rec).all()
    with pytest.raises(ValueError, match="even"):
        demosaic(to_float(raw), SONY, "superpixel")


def test_to_float_uses_bit_depth():
    raw = np.array([0, 4095, 65535], dtype=np.uint16)
    np.testing.assert_allclose(to_float(raw, 12)[:2], [0, 1])
    np.testing.assert_allclose(to_float(raw)[2], 1.0)


@pytest.mark.parametrize("bad", [[[0, 45], [90, 90]], [[0, 45, 90, 135]], [[0, 30], [90, 135]]])
def test_bad_patterns_are_rejected(bad):
    with pytest.raises(ValueError, match="DoFP pattern"):
        pattern_channels(bad)
