import math

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from polaraug.physics import (
    analyze,
    aolp,
    calibration_residual,
    camera_matrix,
    dolp,
    intensities_from_stokes,
    stokes_from_intensities,
)
from tests.conftest import IDEAL, cameras, random_stokes
from tests.physics.edges import EDGE_STOKES, FULLY_POLARIZED, INF, circular_error, edge_cameras, with_edge_rows


@given(cameras(), st.integers(0, 2**32 - 1))
def test_stokes_round_trip_and_zero_residual(a, seed):
    s = random_stokes(np.random.default_rng(seed), (7, 5))
    y = intensities_from_stokes(s, a)
    np.testing.assert_allclose(stokes_from_intensities(y, a), s, atol=1e-10)
    np.testing.assert_allclose(calibration_residual(y, a), 0, atol=1e-12)


@given(edge_cameras(), st.integers(0, 2**32 - 1))
@example(camera_matrix(extinction_ratios=[INF] * 4, dtype=np.float64), 0)
@example(camera_matrix(extinction_ratios=[1.0] * 4, dtype=np.float64), 0)  # no polarizer: rank 1
@example(camera_matrix(extinction_ratios=[1.0, 1.0, 1.0, 80.0], dtype=np.float64), 0)  # rank 2
@example(camera_matrix(extinction_ratios=[1.0 + 1e-3] * 4, dtype=np.float64), 0)  # almost no polarizer
def test_stokes_round_trip_at_the_extinction_ratio_edges(a, seed):
    """Dark, fully polarized and unpolarized light, cameras from ideal to polarizer-free. Intensities the
    camera recorded are always explained exactly (A A† y = y, zero residual); s itself comes back when A
    has full rank, to the accuracy cond(A) allows; without polarizers only s0 can, and DoLP reads 0."""
    s = with_edge_rows(random_stokes(np.random.default_rng(seed), (20,)))
    y = intensities_from_stokes(s, a)
    s_hat = stokes_from_intensities(y, a)
    sv = np.linalg.svd(a, compute_uv=False)
    cond = sv[0] / sv[sv > 1e-15 * sv[0]][-1]  # on the range of A (rank-deficient cameras too)
    tol = 1e-14 * cond * np.abs(y).max()  # backward-stable solvers: error ~ eps · cond · |y|
    np.testing.assert_allclose(intensities_from_stokes(s_hat, a), y, atol=tol)
    np.testing.assert_allclose(calibration_residual(y, a), 0, atol=tol)
    dark = len(FULLY_POLARIZED) - len(EDGE_STOKES)  # index of the s0 = 0 row
    np.testing.assert_array_equal(s_hat[dark], 0.0)  # no light: exactly zero, whatever the camera
    if np.linalg.matrix_rank(a) == 3 and cond < 10:  # every real camera
        np.testing.assert_allclose(s_hat, s, atol=1e-13)
        rows = slice(len(s) - len(EDGE_STOKES), len(s) - len(EDGE_STOKES) + len(FULLY_POLARIZED))
        np.testing.assert_allclose(dolp(s_hat[rows]), 1.0, atol=1e-12)
    if np.linalg.matrix_rank(a) == 1:  # no polarizer anywhere: nothing to tell polarization by
        np.testing.assert_allclose(s_hat[:, 1:], 0, atol=1e-12)
        assert np.all(dolp(s_hat) <= 1e-12)


finite_or_special = st.one_of(st.floats(1e-100, 10), st.floats(-10, -1e-100),
                              st.sampled_from([0.0, -0.0, math.nan, 1.0, -1.0]))


@given(arrays(np.float64, (24, 3), elements=finite_or_special))
@example(np.concatenate([EDGE_STOKES, [[math.nan, 0.0, 0.0], [1.0, math.nan, 0.0], [0.0, math.nan, 0.0],
                                       [-1.0, 0.3, math.nan], [1.0, 0.0, math.nan], [-2.0, 1.0, 0.0],
                                       [0.0, 0.3, 0.4], [1.0, 2.0, 0.0], [math.nan] * 3, [-0.0, 0.0, 0.0],
                                       [1.0, -1.0, -0.0], [3.0, -3.0, 1e-30]]]))
def test_dolp_and_aolp_match_their_closed_forms_at_the_edges(s):
    """DoLP = √(s1² + s2²) / s0, 0 where s0 <= 0 (even if s1 or s2 is NaN), NaN for NaN s0 or for NaN s1/s2
    with s0 > 0; AoLP = ½ atan2(s2, s1) in [0, π), NaN where s1 or s2 is NaN (checked only where the
    light is polarized: the direction of (0, 0) is undefined). DoLP = 1 rows give exactly 1."""
    s0, s1, s2 = s.T
    with np.errstate(invalid="ignore", divide="ignore"):
        ref_dolp = np.where(s0 <= 0, 0.0, np.hypot(s1, s2) / s0)
    np.testing.assert_allclose(dolp(s), ref_dolp, rtol=1e-12, atol=0)  # NaN positions must agree too
    a = aolp(s)
    nan = np.isnan(s1) | np.isnan(s2)
    assert np.array_equal(np.isnan(a), nan)
    assert np.all((a[~nan] >= 0) & (a[~nan] < math.pi))
    polarized = ~nan & (np.hypot(s1, s2) > 0)
    ref_aolp = np.mod(0.5 * np.arctan2(s2, s1), math.pi)
    assert np.all(circular_error(a, ref_aolp)[polarized] <= 1e-12)
    exact = np.all(np.isin(s, FULLY_POLARIZED), axis=1) & (s0 > 0) & (np.hypot(s1, s2) == s0)
    assert np.all(dolp(s)[exact] == 1.0)


def test_ideal_residual_is_the_redundancy(rng):
    y = rng.uniform(0, 1, (20, 4))
    r = calibration_residual(y, IDEAL)
    e = (y[:, 0] + y[:, 2]) - (y[:, 1] + y[:, 3])
    np.testing.assert_allclose(r, 0.25 * e[:, None] * np.array([1, -1, 1, -1]), atol=1e-12)


def test_dolp_and_aolp_of_known_states():
    s = np.array([[1.0, 0.5, 0.0], [2.0, 0.0, 1.0], [1.0, -0.3, 0.0], [1.0, 0.0, -0.2], [0.0, 0.3, 0.1],
                  [-1.0, 0.3, 0.1]])
    np.testing.assert_allclose(dolp(s), [0.5, 0.5, 0.3, 0.2, 0.0, 0.0])
    np.testing.assert_allclose(aolp(s)[:4], [0.0, math.pi / 4, math.pi / 2, 3 * math.pi / 4], atol=1e-12)


def test_aolp_range_is_half_open_in_float32():
    s = np.array([[1, 1, -1e-30], [1, 1, -0.0], [1, -1, 1e-30], [1, 1, 0], [1, -1, -1e-8]], dtype=np.float32)
    a = aolp(s)
    assert a.dtype == np.float32
    assert np.all(a >= 0) and np.all(a < np.float32(math.pi))


def test_numpy_and_torch_agree_channels_last_vs_first(rng):
    a = camera_matrix([1, 44, 91, 134], [1.05, 0.98, 1.0, 0.97], [200, 150, 300, 250])
    y = rng.uniform(0, 1, (2, 9, 11, 4)).astype(np.float32)
    yt = torch.from_numpy(y).permute(0, 3, 1, 2).contiguous()  # (B, 4, H, W)
    s_np = stokes_from_intensities(y, a)
    s_t = stokes_from_intensities(yt, torch.from_numpy(a))
    np.testing.assert_allclose(s_t.permute(0, 2, 3, 1).numpy(), s_np, rtol=1e-5, atol=1e-6)
    for f in (dolp, aolp):
        np.testing.assert_allclose(f(s_t).numpy(), f(s_np), rtol=1e-5, atol=1e-6)
    m_np, m_t = analyze(y, a), analyze(yt, torch.from_numpy(a))
    np.testing.assert_allclose(m_t.dolp.numpy(), m_np.dolp, rtol=1e-5, atol=1e-6)
    assert m_np.inadmissible_fraction == m_t.inadmissible_fraction
    np.testing.assert_allclose(
        calibration_residual(yt, a).permute(0, 2, 3, 1).numpy(), calibration_residual(y, a), atol=1e-6
    )


def test_analyze_matches_the_separate_functions(rng):
    y = rng.uniform(0, 1, (400, 401, 4)).astype(np.float32)  # more pixels than one chunk of the fast path
    y[0, 0] = 0.0  # s0 = 0: DoLP must be 0
    y[1, 1] = [0.75, 0.5, 0.25, np.nextafter(np.float32(0.5), 1)]  # s2 = -6e-8: AoLP must not round up to π
    m = analyze(y, IDEAL)
    s = stokes_from_intensities(y, IDEAL)
    np.testing.assert_allclose(m.stokes, s, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(m.dolp, dolp(s), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(m.aolp, aolp(s), rtol=1e-6, atol=1e-6)
    assert m.dolp[0, 0] == 0 and 0 <= m.aolp.min() and m.aolp.max() < np.float32(math.pi)
    n = np.hypot(s[..., 1], s[..., 2])
    np.testing.assert_allclose(m.violation, n - s[..., 0], atol=1e-6)
    assert m.inadmissible_fraction == pytest.approx(np.mean(n - s[..., 0] > 1e-6), abs=1e-5)
    assert 0 < m.inadmissible_fraction < 1  # random intensities: some pixels are inadmissible
    # The differentiable path (torch, channels-first) agrees with the chunked one.
    mt = analyze(torch.from_numpy(y).permute(2, 0, 1)[None], IDEAL)
    np.testing.assert_allclose(mt.dolp[0].numpy(), m.dolp, rtol=1e-5, atol=1e-6)
    assert mt.inadmissible_fraction == pytest.approx(m.inadmissible_fraction, abs=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_analyze_compiled_passes_match_the_torch_chunks(rng, monkeypatch, dtype):
    from polaraug.physics import _kernels

    if not _kernels.available():
        pytest.skip("numba is not installed")
    # A non-ideal camera: every entry of A† matters.
    a = camera_matrix([1, 44, 92, 133], [1.1, 0.9, 1.0, 1.05], [50, 200, 80, 1000], dtype=np.float64)
    y = rng.uniform(0, 1, (300, 459, 4)).astype(dtype)  # more pixels than one chunk, a partial last chunk
    y[0, :3] = [np.nan, 0.5, 0.5, 0.5]  # NaN: inadmissible, NaN maps
    y[1, 0] = 0.0
    y[2, :2] = [[1e-30, 0, 0, 0], [1e20, 0, 0, 0]]  # ‖(s1, s2)‖ must neither underflow nor overflow
    compiled = analyze(y, a)
    monkeypatch.setattr(_kernels, "available", lambda: False)
    ref = analyze(y, a)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    for k in ("stokes", "dolp", "violation"):
        np.testing.assert_allclose(getattr(compiled, k), getattr(ref, k), rtol=tol, atol=tol, err_msg=k)
    for k in ("stokes", "dolp", "aolp", "violation"):
        assert getattr(compiled, k).dtype == dtype
    # AoLP: the two paths round s1 and s2 differently (a loop against BLAS, with or without FMA, by machine), and
    # an angle moves by up to (rounding of s) / ‖(s1, s2)‖: within tol where that is small, and within a few
    # roundings of s0 / ‖(s1, s2)‖ (the angle's condition number) where the pixel is nearly unpolarized.
    assert np.array_equal(np.isnan(compiled.aolp), np.isnan(ref.aolp))
    ok = ~np.isnan(ref.aolp)
    diff = np.abs(compiled.aolp[ok].astype(np.float64) - ref.aolp[ok])
    diff = np.minimum(diff, np.pi - diff)  # AoLP is periodic in π
    s_ref = ref.stokes[ok].astype(np.float64)
    cond = np.abs(s_ref[:, 0]) / np.maximum(np.hypot(s_ref[:, 1], s_ref[:, 2]), 1e-300)
    bound = np.maximum(tol, 8 * np.finfo(dtype).eps * cond)
    assert (diff <= bound).all(), (diff - bound).max()
    assert (diff[cond < 10] <= tol).all()  # polarized pixels (DoLP > 0.1): the 1e-6 agreement itself
    assert compiled.inadmissible_fraction == pytest.approx(ref.inadmissible_fraction, abs=2 / y[..., 0].size)
    assert compiled.dolp[1, 0] == 0 and np.isnan(compiled.dolp[0, 0])
    assert 0 <= np.nanmin(compiled.aolp) and np.nanmax(compiled.aolp) < dtype(math.pi)


def test_analyze_out_reuses_buffers(rng):
    y1, y2 = (rng.uniform(0, 1, (64, 48, 4)).astype(np.float32) for _ in range(2))
    first = analyze(y1, IDEAL)
    again = analyze(y2, IDEAL, out=first)
    assert again.dolp is not None and np.shares_memory(again.dolp, first.dolp)
    fresh = analyze(y2, IDEAL)
    np.testing.assert_array_equal(again.stokes, fresh.stokes)
    np.testing.assert_array_equal(again.aolp, fresh.aolp)
    with pytest.raises(ValueError, match="same shape"):
        analyze(y1[:10], IDEAL, out=first)


def test_float32_stays_float32_and_integers_are_refused(rng):
    y = rng.uniform(0, 1, (4, 4, 4)).astype(np.float32)
    assert stokes_from_intensities(y, IDEAL).dtype == np.float32
    with pytest.raises(TypeError, match="to_float"):
        stokes_from_intensities((y * 255).astype(np.uint8), IDEAL)


def test_wrong_channel_count_names_the_layout():
    with pytest.raises(ValueError, match="channels-last"):
        stokes_from_intensities(np.zeros((4, 4, 3), np.float32), IDEAL)
    with pytest.raises(ValueError, match="needs 4 channels"):
        stokes_from_intensities(torch.zeros(1, 3, 4, 4), IDEAL)


def test_explicit_dim_override(rng):
    y = rng.uniform(0, 1, (4, 6, 5))  # channels-first numpy
    s = stokes_from_intensities(y, IDEAL, dim=0)
    np.testing.assert_allclose(s, np.moveaxis(stokes_from_intensities(np.moveaxis(y, 0, -1), IDEAL), -1, 0))


def test_dolp_gradient_is_finite_at_zero():
    s = torch.zeros(1, 3, 2, 2, requires_grad=True)
    dolp(s).sum().backward()
    assert torch.isfinite(s.grad).all()


def test_large_outputs_on_huge_pages_equal_ordinary_ones(rng, monkeypatch):
    from polaraug.physics import _memory

    y = rng.uniform(0, 1, (512, 512, 4)).astype(np.float32)  # 6 MB of outputs: the huge-page path
    huge = analyze(y, IDEAL)
    monkeypatch.setattr(_memory, "HUGE_MIN_BYTES", 1 << 40)  # every buffer an ordinary torch.empty
    plain = analyze(y, IDEAL)
    for name in ("stokes", "dolp", "aolp", "violation"):
        np.testing.assert_array_equal(getattr(huge, name), getattr(plain, name))
    assert huge.inadmissible_fraction == plain.inadmissible_fraction
    assert not np.shares_memory(huge.dolp, plain.dolp) and huge.dolp.flags.writeable
    dolp = huge.dolp
    del huge  # a view outlives the rest of its block
    dolp[:] = 0.5
    assert float(dolp.mean()) == 0.5
    for dtype in (torch.float32, torch.float64):
        t = _memory.empty_large(3 << 20, dtype)
        assert t.shape == (3 << 20,) and t.dtype == dtype
        t.fill_(2.0)
        assert float(t.sum()) == 2.0 * (3 << 20)
