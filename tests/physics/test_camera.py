import numpy as np
import pytest
from hypothesis import given

from polaraug.physics import (
    camera_matrix,
    decompose_camera_matrix,
    diattenuation,
    extinction_ratio,
    pseudo_inverse,
    stokes_from_intensities,
)
from tests.conftest import IDEAL, cameras


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


@given(cameras())
def test_decompose_inverts_camera_matrix(a):
    angles, gains, ers = decompose_camera_matrix(a)
    np.testing.assert_allclose(camera_matrix(angles, gains, ers, dtype=np.float64), a, atol=1e-10)


def test_diattenuation_and_extinction_ratio_are_inverse():
    er = np.array([1.0, 2.0, 100.0, np.inf])
    d = diattenuation(er)
    np.testing.assert_allclose(d, [0.0, 1 / 3, 99 / 101, 1.0])
    np.testing.assert_allclose(extinction_ratio(d), er)


def test_camera_matrix_rejects_wrong_lengths():
    with pytest.raises(ValueError, match="4 angles"):
        camera_matrix([0, 45, 90])
