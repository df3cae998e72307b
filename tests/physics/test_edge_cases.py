"""Regression tests for edge cases: exact ideal A, strided/big-endian input, NaN, float32 repair, batches."""

import math

import numpy as np
import pytest
import torch

from polaraug.physics import (
    analyze,
    aolp,
    camera_matrix,
    demosaic,
    dolp,
    inadmissible_fraction,
    mirror_intensities,
    mosaic,
    repair_intensities,
    stokes_from_intensities,
)
from tests.conftest import IDEAL


def test_ideal_matrix_is_exact_and_grey_has_aolp_zero():
    a = camera_matrix()
    assert a[0, 2] == 0 and a[1, 1] == 0 and a[2, 2] == 0 and a[3, 1] == 0
    grey = np.full((4, 4, 4), 0.3, np.float32)
    m = analyze(grey, a)
    assert np.all(m.stokes[..., 1:] == 0) and np.all(m.aolp == 0) and np.all(m.dolp == 0)


def test_flipped_readonly_and_big_endian_arrays_are_accepted(rng):
    img = rng.uniform(0, 1, (6, 8, 4)).astype(np.float32)
    flipped = img[:, ::-1]  # negative stride, as a flip augmentation passes it
    np.testing.assert_allclose(mirror_intensities(flipped, IDEAL), flipped[..., [0, 3, 2, 1]], atol=1e-6)
    big = img.astype(">f4")
    np.testing.assert_array_equal(stokes_from_intensities(big, IDEAL), stokes_from_intensities(img, IDEAL))
    ro = np.broadcast_to(img[:1], img.shape)
    assert stokes_from_intensities(ro, IDEAL).shape == (6, 8, 3)


def test_nan_pixels_count_as_inadmissible():
    s = np.array([[1.0, 0.0, 0.0], [np.nan, 0.0, 0.0], [1.0, np.nan, 0.0]], np.float32)
    assert inadmissible_fraction(s) == pytest.approx(2 / 3)
    y = np.full((1, 3, 4), 0.5, np.float32)
    y[0, 1, 0] = np.nan
    assert analyze(y, IDEAL).inadmissible_fraction == pytest.approx(1 / 3)
    # NaN s0 gives NaN DoLP on both code paths (not a silent 0).
    assert np.isnan(dolp(s)[1]) and np.isnan(analyze(y, IDEAL).dolp[0, 1])


def test_negative_zero_aolp_is_positive_zero_on_both_paths():
    s = np.array([[1.0, 0.5, -0.0]], np.float32)
    assert math.copysign(1, aolp(s)[0]) == 1.0
    y = np.array([[[0.75, 0.5, 0.25, 0.5]]], np.float32)
    assert math.copysign(1, analyze(y, IDEAL).aolp[0, 0]) == 1.0


@pytest.mark.parametrize("er", [5.0, 20.0, math.inf])
def test_float32_repair_meets_the_validated_tolerance(er, rng):
    a = camera_matrix([0, 45, 90, 135], [1.1, 0.9, 1.05, 0.95], [er] * 4)
    y = rng.uniform(0, 1, (128, 128, 4)).astype(np.float32)
    fixed = repair_intensities(y, a, margin=5e-7)
    assert fixed.dtype == np.float32
    assert inadmissible_fraction(stokes_from_intensities(fixed, a), tol=1e-6) == 0.0


def test_demosaic_and_mosaic_batches_round_trip(rng):
    pattern = [[90, 45], [135, 0]]
    raws = rng.uniform(0, 1, (3, 6, 8)).astype(np.float32)
    out = demosaic(raws, pattern)
    assert out.shape == (3, 6, 8, 4)
    np.testing.assert_array_equal(out[1], demosaic(raws[1], pattern))
    np.testing.assert_array_equal(mosaic(out, pattern), raws)
    single = demosaic(torch.from_numpy(raws[0]), pattern)
    assert single.shape == (4, 6, 8)
    np.testing.assert_array_equal(mosaic(single, pattern).numpy(), raws[0])


def test_quantization_of_a_calibrated_camera_with_bright_repaired_pixels(rng):
    from polaraug.physics.quantize import check_quantized, quantize_admissible

    a = camera_matrix([0, 45, 90, 135], [1.0, 0.6, 1.0, 1.3], [50, 8, 100, 20])
    saturated = np.clip(rng.uniform(0, 1.5, (64, 64, 4)), 0, 1).astype(np.float32)
    y = repair_intensities(saturated, a)
    assert y.max() > 1.1  # repairing clipped pixels pushes some beyond the range
    for bits in (8, 16):
        assert check_quantized(quantize_admissible(y, a, bits), a) == 0
