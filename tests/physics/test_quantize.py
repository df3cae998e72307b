"""quantize_admissible against an independent reference: plain rounding, except where rounding breaks the
cone, and then only by a couple of LSB.

The reference for "needed a nudge" is exact integer arithmetic for the ideal camera: a rounded pixel q is
admissible iff (ΣI)² >= (2 s1)² + (2 s2)² with 2 s1 = 2 (I0 - I90), 2 s2 = 2 (I45 - I135) (CONVENTIONS.md:
s0 = ½ΣI). For calibrated cameras it is float64 with A† computed here, ambiguous pixels (|violation| below
1e-12) left to the LSB bound only.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from polaraug.physics import camera_matrix, intensities_from_stokes
from polaraug.physics.quantize import MAX_STEPS, check_quantized, quantize_admissible
from tests.conftest import IDEAL

BITS = [8, 10, 12, 16]
CALIBRATED = camera_matrix([1, 44, 91, 134], [1.05, 0.95, 1.0, 0.97], [50, 8, 100, 20], dtype=np.float64)
# Largest per-pixel L1 distance |q - round(y * top)| summed over the 4 channels. The function documents a
# hard cap of MAX_STEPS single-LSB steps; the tight value is 2: rounding moves the violation
# ||(s1, s2)|| - s0 by at most (1 + √2) LSB, and each nudge (for these pixels: the channel that sees the
# orthogonal polarization + 1) wins back at least ½ + cos 45° = 1.21 LSB. Checked on ~10^7 fully polarized
# pixels of both cameras at 8, 12 and 16 bits.
NUDGE_L1 = 2


def _top(bits: int) -> int:
    return 2**bits - 1


def _dtype(bits: int):
    return np.uint8 if bits == 8 else np.uint16


def _exact_slack(q: np.ndarray) -> np.ndarray:
    """(ΣI)² - (2 s1)² - (2 s2)² of integer ideal-camera intensities, exact in int64 (>= 0: admissible)."""
    q = q.astype(np.int64)
    total = q.sum(axis=-1)
    t1, t2 = 2 * (q[..., 0] - q[..., 2]), 2 * (q[..., 1] - q[..., 3])
    return total * total - t1 * t1 - t2 * t2


def _violation(q: np.ndarray, a: np.ndarray, bits: int) -> np.ndarray:
    """||(s1, s2)|| - s0 in [0, 1] units, float64, A† = (AᵀA)⁻¹Aᵀ solved here (not polaraug's)."""
    a = np.asarray(a, np.float64)
    a_pinv = np.linalg.solve(a.T @ a, a.T)
    s = (q.astype(np.float64) / _top(bits)) @ a_pinv.T
    return np.hypot(s[..., 1], s[..., 2]) - s[..., 0]


def _admissible_field(a: np.ndarray, n: int, seed: int, bits: int) -> np.ndarray:
    """(n, 4) float64 intensities in [0, 1], admissible: half fully polarized (DoLP = 1, the pixels
    rounding breaks), some nearly so, some partial; a quarter very dark (s0 within 20 LSB)."""
    rng = np.random.default_rng(seed)
    s0 = np.concatenate([rng.uniform(0, 1, n - n // 4), rng.uniform(0, 20 / _top(bits), n // 4)])
    p = rng.choice([1.0, 0.999, 0.5], n, p=[0.5, 0.25, 0.25])
    p = p * np.where(rng.uniform(size=n) < 0.1, rng.uniform(size=n), 1.0)
    ang = rng.uniform(0, math.pi, n)
    y = intensities_from_stokes(np.stack([s0, s0 * p * np.cos(2 * ang), s0 * p * np.sin(2 * ang)], -1), a)
    return y / np.maximum(y.max(axis=-1, keepdims=True), 1.0)  # a calibrated camera can exceed 1: scale down


@pytest.mark.parametrize("bits", BITS)
def test_ideal_camera_output_is_plain_rounding_except_for_pixels_rounding_broke(bits):
    top = _top(bits)
    y = _admissible_field(IDEAL, 60_000, seed=bits, bits=bits)
    q = quantize_admissible(y, IDEAL, bits)
    assert q.dtype == _dtype(bits) and q.shape == y.shape and int(q.max()) <= top
    r = np.round(y * top).astype(np.int64)
    slack = _exact_slack(r)
    broken, inside = slack < 0, slack > 0
    assert broken.sum() > 1000 and inside.sum() > 1000  # the data exercise both cases
    # Pixels that rounding left strictly inside the cone come back exactly rounded ...
    np.testing.assert_array_equal(q[inside], r[inside])
    # ... the others were changed, and are admissible now in exact arithmetic.
    assert np.all(np.any(q[broken] != r[broken], axis=-1))
    assert np.all(_exact_slack(q) >= 0)
    # Every pixel is within NUDGE_L1 LSB (summed over its channels) of round(y * top).
    l1 = np.abs(q.astype(np.int64) - r).sum(axis=-1)
    assert l1.max() <= NUDGE_L1 <= MAX_STEPS
    assert np.abs(q.astype(np.int64) - y * top).max() <= NUDGE_L1 + 0.5


@pytest.mark.parametrize("bits", BITS)
def test_calibrated_camera_output_is_plain_rounding_except_for_pixels_rounding_broke(bits):
    top = _top(bits)
    y = _admissible_field(CALIBRATED, 60_000, seed=100 + bits, bits=bits)
    q = quantize_admissible(y, CALIBRATED, bits)
    assert q.dtype == _dtype(bits) and int(q.max()) <= top
    r = np.round(y * top).astype(np.int64)
    v = _violation(r, CALIBRATED, bits)
    inside, broken = v < -1e-12, v > 1e-12  # in between: float64 cannot tell; only the LSB bound applies
    assert broken.sum() > 1000 and inside.sum() > 1000
    np.testing.assert_array_equal(q[inside], r[inside])
    assert np.all(np.any(q[broken] != r[broken], axis=-1))
    assert _violation(q, CALIBRATED, bits).max() <= 1e-12
    assert check_quantized(q, CALIBRATED, bits=bits) == 0
    assert np.abs(q.astype(np.int64) - r).sum(axis=-1).max() <= NUDGE_L1


def _admissible_integers(bits: int, n: int, seed: int, strict: bool) -> np.ndarray:
    """(m, 4) int64 ideal-camera pixels that are admissible in exact arithmetic: strictly inside the cone
    (strict=True) or exactly on its boundary (strict=False, e.g. (2, 1, 0, 1): DoLP = 1)."""
    rng = np.random.default_rng(seed)
    top = _top(bits)
    if strict:
        k = rng.integers(0, top + 1, (n, 4))
        k = np.concatenate([k[_exact_slack(k) > 0], [[0, 0, 0, 0], [top] * 4, [top, top // 2, 1, top // 2]]])
        return k
    # Boundary: fully polarized at 0°/90° (I45 = I135 = (I0 + I90) / 2 with I90 = 0 or I0 = 0) and at the
    # Pythagorean angles, where 2 s1 : 2 s2 : ΣI = 3 : 4 : 5.
    m = rng.integers(1, top // 2, n)
    zero = np.zeros_like(m)
    at0 = np.stack([2 * m, m, zero, m], -1)
    at90 = np.stack([zero, m, 2 * m, m], -1)
    j = rng.integers(1, top // 10, n)  # I = j * (8, 9, 2, 1): ΣI = 20j, 2 s1 = 12j, 2 s2 = 16j
    pyth = j[:, None] * np.array([8, 9, 2, 1])
    k = np.concatenate([at0, at90, pyth])
    assert np.all(_exact_slack(k) == 0)
    return k


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_exactly_representable_admissible_inputs_come_back_unchanged(bits, dtype):
    k = _admissible_integers(bits, 20_000, seed=bits, strict=True)
    q = quantize_admissible((k / _top(bits)).astype(dtype), IDEAL, bits)
    np.testing.assert_array_equal(q, k)


@pytest.mark.parametrize("bits", BITS)
def test_exactly_representable_fully_polarized_inputs_come_back_unchanged(bits):
    k = _admissible_integers(bits, 2_000, seed=bits, strict=False)
    assert check_quantized(k.astype(_dtype(bits)), IDEAL, bits=bits) == 0  # admissible by polaraug's own check
    q = quantize_admissible(k / _top(bits), IDEAL, bits)
    np.testing.assert_array_equal(q, k)


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("a", [IDEAL, CALIBRATED], ids=["ideal", "calibrated"])
def test_brighter_than_range_pixels_are_scaled_as_a_whole(bits, a):
    top = _top(bits)
    rng = np.random.default_rng(7 + bits)
    base = _admissible_field(a, 20_000, seed=bits, bits=bits)
    base = base / base.max(axis=-1, keepdims=True)  # brightest channel exactly 1
    base = base[np.all(np.isfinite(base), axis=-1)]
    factor = rng.choice([1.0 + 1e-6, 1.5, 3.0, 1e3], len(base))[:, None]
    q = quantize_admissible(base * factor, a, bits).astype(np.int64)
    # The brightest channel sits at full scale; clipping instead would put several channels there.
    np.testing.assert_array_equal(q[np.arange(len(q)), base.argmax(axis=-1)], top)
    # Channel ratios are those of the input, to quantisation accuracy (round: ½ LSB, nudges: NUDGE_L1).
    assert np.abs(q / top - base).max() <= (NUDGE_L1 + 0.5) / top
    # Same as quantizing the pixel already scaled into range.
    assert np.abs(q - quantize_admissible(base, a, bits).astype(np.int64)).sum(axis=-1).max() <= NUDGE_L1
    if a is IDEAL:
        assert np.all(_exact_slack(q) >= 0)


def test_admissible_input_of_a_low_extinction_ratio_camera_is_quantized():
    a = camera_matrix(gains=[1.3, 0.7, 1.0, 1.0], extinction_ratios=[2.0] * 4, dtype=np.float64)
    ang = np.radians(np.arange(0, 180, 5.0))
    s = 0.5 * np.stack([np.ones_like(ang), np.cos(2 * ang), np.sin(2 * ang)], -1)  # fully polarized, s0 = 0.5
    y = intensities_from_stokes(s, a)
    assert y.max() <= 1 and _violation(y * 255, a, 8).max() <= 1e-12  # in range and admissible
    q = quantize_admissible(y, a, 8)
    assert check_quantized(q, a, bits=8) == 0
    assert np.abs(q.astype(np.int64) - np.round(y * 255)).sum(axis=-1).max() <= MAX_STEPS


def test_clipping_would_have_failed_the_ratio_check():
    """The checks above can fail: a pixel (2, 1, 0, 1) clipped to (1, 1, 0, 1) has I45 / I0 = 1, not ½."""
    q = quantize_admissible(np.array([[2.0, 1.0, 0.0, 1.0], [0.9, 0.45, 0.0, 0.45]]) * 2, IDEAL, 8)
    np.testing.assert_array_equal(q, [[255, 128, 0, 128], [255, 128, 0, 128]])  # round(127.5) = 128: admissible


def test_negative_values_become_zero():
    y = np.array([[-0.2, 0.5, 0.5, 0.5], [-1e-9, 0.0, -3.0, 0.0]])
    np.testing.assert_array_equal(quantize_admissible(y, IDEAL, 8), [[0, 128, 128, 128], [0, 0, 0, 0]])


def test_nan_input_is_refused():
    """NaN has no integer encoding (undocumented; refusing is the physical answer, not a silent value)."""
    with pytest.raises(ValueError), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "invalid value encountered in cast"
        quantize_admissible(np.array([[np.nan, 0.5, 0.5, 0.5]]), IDEAL, 8)


def test_bit_depth_is_checked():
    with pytest.raises(ValueError, match="8, 10, 12, 14, 16"):
        quantize_admissible(np.zeros((1, 4)), IDEAL, 9)
    assert quantize_admissible(np.full((1, 4), 0.5), IDEAL, 10).max() == 512  # 10 bits in uint16: 0 .. 1023


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(BITS), st.integers(0, 2**32 - 1),
       st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0]), st.floats(0.0, math.pi))
@example(8, 0, 0.0, 1.0, 0.3)  # dark pixel
@example(8, 0, 1.0, 1.0, 0.0)  # brightest fully polarized pixel at 0°: (1, ½, 0, ½)
@example(16, 0, 1.0, 1.0, math.pi / 4)
@example(12, 0, 1.0, 0.0, 0.0)  # grey at full scale
@example(8, 0, 3 / 255, 1.0, 1.0)  # a few LSB, fully polarized
def test_single_pixels_edges_ideal(bits, seed, s0, dolp, ang):
    """Dark (s0 = 0), fully polarized (DoLP = 1) and unpolarized single pixels and a random batch."""
    top = _top(bits)
    s = np.array([s0, s0 * dolp * math.cos(2 * ang), s0 * dolp * math.sin(2 * ang)])
    y = np.concatenate([intensities_from_stokes(s, IDEAL)[None], _admissible_field(IDEAL, 64, seed, bits)])
    y = np.clip(y, 0, None)  # -1e-17 from cos(π/2): a negative float is not what is tested here
    q = quantize_admissible(y, IDEAL, bits).astype(np.int64)
    r = np.round(y * top).astype(np.int64)
    inside = _exact_slack(r) > 0
    np.testing.assert_array_equal(q[inside], r[inside])
    assert np.all(_exact_slack(q) >= 0)
    assert np.abs(q - r).sum(axis=-1).max() <= NUDGE_L1
    if s0 == 0:
        np.testing.assert_array_equal(q[0], 0)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_compiled_violator_check_equals_the_opencv_one(dtype, monkeypatch):
    from polaraug.physics import quantize

    top = np.iinfo(dtype).max
    q = np.random.default_rng(5).integers(0, top + 1, (50, 40, 4)).astype(dtype)
    k = top // 2
    q[0, 0] = (2 * k, k, 0, k)  # fully polarized at 0°: exactly on the cone, admissible
    q[0, 1] = (2 * k, k, 0, k - 1)  # one count off it
    fast = quantize._ideal_violators(q)
    monkeypatch.setattr(quantize, "numba_available", lambda: False)  # the OpenCV path
    slow = quantize._ideal_violators(q)
    np.testing.assert_array_equal(fast, slow)
    assert not fast[0, 0] and fast[0, 1] and 0 < fast.mean() < 1
