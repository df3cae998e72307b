import math

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from polaraug.physics import (
    analyze,
    camera_matrix,
    decompose_camera_matrix,
    diattenuation,
    extinction_ratio,
    intensities_from_stokes,
    pseudo_inverse,
    stokes_from_intensities,
)
from tests.conftest import IDEAL, cameras
from tests.physics.edges import (
    FULLY_POLARIZED,
    INF,
    edge_cameras,
    extinction_ratios,
    well_conditioned_extinction_ratios,
)


def test_ideal_matrix_and_pseudo_inverse_match_conventions():
    np.testing.assert_allclose(IDEAL, 0.5 * np.array([[1, 1, 0], [1, 0, 1], [1, -1, 0], [1, 0, -1]]), atol=1e-15)
    expected = np.array([[0.5, 0.5, 0.5, 0.5], [1, 0, -1, 0], [0, 1, 0, -1]])
    np.testing.assert_allclose(pseudo_inverse(IDEAL), expected, atol=1e-12)


def test_ideal_s0_is_half_the_sum_not_i0_plus_i90(rng):
    y = rng.uniform(0, 1, (50, 4))
    s = stokes_from_intensities(y, IDEAL)
    np.testing.assert_allclose(s[:, 0], 0.5 * y.sum(axis=1), rtol=1e-12)
    # The left-inverse mistake of the reference implementation differs whenever the residual is non-zero.
    assert not np.allclose(s[:, 0], y[:, 0] + y[:, 2])


@given(cameras())
def test_moore_penrose_identities(a):
    p = pseudo_inverse(a)
    np.testing.assert_allclose(a @ p @ a, a, atol=1e-12)
    np.testing.assert_allclose(p @ a @ p, p, atol=1e-10)
    np.testing.assert_allclose(p @ a, np.eye(3), atol=1e-10)  # full column rank: A† is a left inverse too


@given(edge_cameras(well_conditioned_extinction_ratios()))
@example(camera_matrix(extinction_ratios=[INF] * 4, dtype=np.float64))  # ideal polarizers
@example(camera_matrix(extinction_ratios=[1.0] * 4, dtype=np.float64))  # no polarizer: rank 1
@example(camera_matrix(extinction_ratios=[1.0, 1.0, 1.0, 50.0], dtype=np.float64))  # rank 2
@example(camera_matrix(extinction_ratios=[1.001] * 4, dtype=np.float64))  # almost no polarizer (symmetric)
def test_moore_penrose_identities_at_the_extinction_ratio_edges(a):
    """The four Penrose conditions hold for every camera, rank-deficient ones (ER = 1) included; A† is a
    left inverse at full rank. (ER just above 1 in random mixes: see the accuracy test below.)"""
    # The strategy's promise: rank-deficient or well-conditioned. Angle errors can still nearly cancel a
    # column of A (three unpolarized channels and a polarizer at 45° ± 1e-11: cond 1e11), where no float64
    # pseudo-inverse meets fixed tolerances; such cameras are outside this test's domain.
    assume(np.linalg.matrix_rank(a) < 3 or np.linalg.cond(a) < 1e6)
    p = pseudo_inverse(a)
    scale = np.abs(p).max()  # |A†| grows like 1 / d for ER -> 1: tolerances relative to it
    np.testing.assert_allclose(a @ p @ a, a, atol=1e-12)
    np.testing.assert_allclose(p @ a @ p, p, atol=1e-12 * scale)
    np.testing.assert_allclose(a @ p, (a @ p).T, atol=1e-12 * scale)
    np.testing.assert_allclose(p @ a, (p @ a).T, atol=1e-12 * scale)
    cond = np.linalg.cond(a)
    if cond < 10:  # well-conditioned (every real camera); see the accuracy test below for the others
        np.testing.assert_allclose(p @ a, np.eye(3), atol=1e-14 * cond)


def test_pseudo_inverse_is_as_accurate_as_svd_for_an_almost_unpolarized_camera():
    a = camera_matrix([1, 44, 91, 134], [1.05, 0.95, 1.0, 1.1], [1.0, 1.0, 3.0, 1.0003], dtype=np.float64)
    assert 1e3 < np.linalg.cond(a) < 1e6  # ill-conditioned; below the former normal-equations threshold (1e6)
    s = np.array([1.0, 0.6, -0.8])  # fully polarized
    err_svd = np.abs(np.linalg.pinv(a) @ (a @ s) - s).max()
    err = np.abs(stokes_from_intensities(a @ s, a) - s).max()
    assert err <= 10 * err_svd + 1e-15


@given(edge_cameras())
@example(camera_matrix(dtype=np.float64))
@example(camera_matrix(extinction_ratios=[1.0] * 4, dtype=np.float64))
def test_decompose_inverts_camera_matrix_at_the_extinction_ratio_edges(a):
    """ER = inf (d = 1) and ER = 1 (d = 0, angle meaningless) included: the matrix and the diattenuations
    come back (extinction ratios near inf only as far as float64 d = 1 - ε can tell them)."""
    angles, gains, ers = decompose_camera_matrix(a)
    assert np.all((angles >= 0) & (angles < 180)) and np.all(ers >= 1)
    np.testing.assert_allclose(camera_matrix(angles, gains, ers, dtype=np.float64), a, atol=1e-12)
    np.testing.assert_allclose(diattenuation(ers), np.minimum(np.hypot(a[:, 1], a[:, 2]) / a[:, 0], 1.0), atol=1e-12)


@given(cameras())
def test_decompose_inverts_camera_matrix(a):
    angles, gains, ers = decompose_camera_matrix(a)
    np.testing.assert_allclose(camera_matrix(angles, gains, ers, dtype=np.float64), a, atol=1e-10)


def test_diattenuation_and_extinction_ratio_are_inverse():
    er = np.array([1.0, 2.0, 100.0, np.inf])
    d = diattenuation(er)
    np.testing.assert_allclose(d, [0.0, 1 / 3, 99 / 101, 1.0])
    np.testing.assert_allclose(extinction_ratio(d), er)


@given(extinction_ratios())
@example(INF)
@example(1.0)
@example(1.0 + 2**-52)  # the smallest ER above 1
@example(1e300)
def test_diattenuation_closed_form_range_and_inverse(er):
    d = float(diattenuation(er))
    assert d == (1.0 if er == INF else (er - 1) / (er + 1))  # documented: ER = inf gives d = 1
    assert 0.0 <= d <= 1.0
    if er == 1.0:
        assert d == 0.0  # no polarizer
    back = float(extinction_ratio(d))
    assert back >= 1.0
    if er == INF:
        assert back == INF
    # d is the well-conditioned quantity: the round trip keeps it (ER itself only to ~ER·eps relative).
    assert float(diattenuation(back)) == pytest.approx(d, abs=1e-15)
    if er <= 1e6:
        assert back == pytest.approx(er, rel=1e-9)


@given(extinction_ratios(), extinction_ratios())
def test_diattenuation_is_monotonic(er1, er2):
    lo, hi = sorted([er1, er2])
    assert float(diattenuation(lo)) <= float(diattenuation(hi))


def test_extinction_ratio_edges_and_nan():
    np.testing.assert_array_equal(extinction_ratio([0.0, 1.0, 1.5]), [1.0, INF, INF])  # documented: d >= 1 -> inf
    # NaN is undocumented; the physical answer is "unknown", never a finite ratio or inf.
    assert np.isnan(diattenuation(math.nan)) and np.isnan(extinction_ratio(math.nan))
    out = diattenuation(np.array([[1.0, INF], [3.0, math.nan]]))
    assert out.shape == (2, 2)
    np.testing.assert_array_equal(out, [[0.0, 1.0], [0.5, math.nan]])


@given(st.lists(st.floats(-180, 360), min_size=4, max_size=4), st.lists(st.floats(0.1, 10), min_size=4, max_size=4),
       st.lists(extinction_ratios(), min_size=4, max_size=4))
def test_camera_matrix_rows_closed_form(angles, gains, ers):
    """a_i = (t_i / 2) · [1, d_i cos 2θ_i, d_i sin 2θ_i], d_i = (ER_i - 1) / (ER_i + 1) (CONVENTIONS.md)."""
    a = camera_matrix(angles, gains, ers, dtype=np.float64)
    th = np.radians(angles)
    d = np.array([1.0 if e == INF else (e - 1) / (e + 1) for e in ers])
    t = np.array(gains)
    want = 0.5 * t[:, None] * np.stack([np.ones(4), d * np.cos(2 * th), d * np.sin(2 * th)], axis=1)
    np.testing.assert_allclose(a, want, rtol=0, atol=1e-12 * t.max())


def test_ideal_and_no_polarizer_cameras():
    np.testing.assert_array_equal(camera_matrix(extinction_ratios=[INF] * 4), camera_matrix())
    np.testing.assert_array_equal(camera_matrix(extinction_ratios=[1e300] * 4), camera_matrix())  # d rounds to 1
    none = camera_matrix(gains=[1.2, 0.8, 1.0, 1.1], extinction_ratios=[1.0] * 4, dtype=np.float64)
    np.testing.assert_array_equal(none[:, 1:], 0.0)  # without a polarizer a channel sees s0 only
    np.testing.assert_array_equal(none[:, 0], [0.6, 0.4, 0.5, 0.55])


def test_a_camera_without_polarizers_sees_no_polarization(rng):
    """ER = 1: the camera measures s0 only. A† gives the least-squares s0 and s1 = s2 = 0 (minimum norm),
    so DoLP is 0 for any light, and intensities it recorded come back exactly."""
    t = np.array([1.2, 0.8, 1.0, 1.1])
    a = camera_matrix([0, 45, 90, 135], t, [1.0] * 4, dtype=np.float64)
    s = np.concatenate([FULLY_POLARIZED, rng.uniform(0, 1, (20, 3))])
    y = intensities_from_stokes(s, a)
    s_hat = stokes_from_intensities(y, a)
    np.testing.assert_allclose(s_hat[:, 0], s[:, 0], rtol=1e-12)
    np.testing.assert_allclose(s_hat[:, 1:], 0.0, atol=1e-12)
    np.testing.assert_allclose(intensities_from_stokes(s_hat, a), y, atol=1e-12)
    m = analyze(rng.uniform(0, 1, (8, 8, 4)), a)  # any intensities, even inconsistent ones
    np.testing.assert_allclose(m.stokes[..., 1:], 0.0, atol=1e-12)
    assert m.dolp.max() <= 1e-12 and m.inadmissible_fraction == 0.0


@pytest.mark.parametrize("er", [1.0 + 1e-2, 1.0 + 1e-4, 1.0 + 1e-6])
def test_almost_no_polarizer_still_recovers_polarization(er, rng):
    """ER just above 1: A has full rank, so A† still recovers s, with errors growing like eps·cond(A)."""
    a = camera_matrix([1, 44, 91, 134], [1.05, 0.95, 1.0, 1.1], [er] * 4, dtype=np.float64)
    s = np.concatenate([FULLY_POLARIZED[:4], rng.uniform(-1, 1, (20, 3))])
    s_hat = stokes_from_intensities(intensities_from_stokes(s, a), a)
    cond = np.linalg.cond(a)
    assert 1e2 < cond < 1e8
    np.testing.assert_allclose(s_hat, s, atol=1e-14 * cond)
    np.testing.assert_allclose(np.hypot(s_hat[:4, 1], s_hat[:4, 2]) / s_hat[:4, 0], 1.0, atol=1e-14 * cond)


def test_camera_matrix_rejects_wrong_lengths():
    with pytest.raises(ValueError, match="4 angles"):
        camera_matrix([0, 45, 90])
