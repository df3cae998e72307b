import numpy as np
import pytest

from polaraug.cameras.estimate import fit_from_polarizer, gains_from_redundancy
from polaraug.physics import camera_matrix, intensities_from_stokes
from tests.conftest import random_stokes

TRUE_ANGLES = [1.5, 46.0, 88.8, 134.0]
TRUE_GAINS = np.array([1.04, 0.97, 1.02, 0.97])
TRUE_ERS = [120.0, 90.0, 200.0, 150.0]


def _polarizer_means(a, alphas_deg, level=0.6):
    alpha = np.deg2rad(alphas_deg)
    s = level * np.stack([np.ones_like(alpha), np.cos(2 * alpha), np.sin(2 * alpha)], axis=1)
    return s @ a.T


def test_polarizer_fit_recovers_a_non_ideal_camera():
    a = camera_matrix(TRUE_ANGLES, TRUE_GAINS, TRUE_ERS, np.float64)
    alphas = np.arange(0, 180, 15.0)
    fit = fit_from_polarizer(_polarizer_means(a, alphas), alphas)
    np.testing.assert_allclose(fit.angles_deg, TRUE_ANGLES, atol=1e-9)
    np.testing.assert_allclose(fit.gains, TRUE_GAINS / TRUE_GAINS.mean(), rtol=1e-9)
    np.testing.assert_allclose(fit.extinction_ratios, TRUE_ERS, rtol=1e-6)
    assert fit.rms_residual < 1e-12


def test_polarizer_fit_with_noise_is_close(rng):
    a = camera_matrix(TRUE_ANGLES, TRUE_GAINS, TRUE_ERS, np.float64)
    alphas = np.arange(0, 360, 10.0)
    means = _polarizer_means(a, alphas) + rng.normal(0, 1e-4, (len(alphas), 4))
    fit = fit_from_polarizer(means, alphas)
    np.testing.assert_allclose(fit.angles_deg, TRUE_ANGLES, atol=0.05)
    np.testing.assert_allclose(fit.gains, TRUE_GAINS / TRUE_GAINS.mean(), rtol=1e-3)


def test_polarizer_fit_needs_three_orientations():
    with pytest.raises(ValueError, match="3 distinct"):
        fit_from_polarizer(np.ones((3, 4)), [0, 90, 180])


def test_gains_from_redundancy_recover_gains(rng):
    s = random_stokes(rng, (20000,), admissible=True)
    y = intensities_from_stokes(s, camera_matrix(gains=TRUE_GAINS, dtype=np.float64))
    y += rng.normal(0, 1e-3, y.shape)
    fit = gains_from_redundancy(y)
    np.testing.assert_allclose(fit.gains, TRUE_GAINS / TRUE_GAINS.mean(), atol=2e-3)
    assert fit.rms_redundancy_after < 0.2 * fit.rms_redundancy_before


def test_gains_need_polarization_diversity(rng):
    s0 = rng.uniform(0.1, 1, 5000)
    s = np.stack([s0, 0 * s0, 0 * s0], axis=1)  # unpolarized scene
    y = intensities_from_stokes(s, camera_matrix(gains=TRUE_GAINS, dtype=np.float64))
    with pytest.raises(ValueError, match="do not determine the gains"):
        gains_from_redundancy(y + rng.normal(0, 1e-4, y.shape))


@pytest.mark.parametrize("seed", range(20))
def test_a_single_aolp_scene_never_yields_gains(seed):
    rng = np.random.default_rng(seed)
    s0 = rng.uniform(0.1, 1, 4000)
    dolp = rng.uniform(0, 0.9, 4000)
    ang = rng.uniform(0, np.pi)  # one AoLP for the whole scene: the gains are not identifiable
    s = np.stack([s0, s0 * dolp * np.cos(2 * ang), s0 * dolp * np.sin(2 * ang)], axis=1)
    y = intensities_from_stokes(s, camera_matrix(gains=TRUE_GAINS, dtype=np.float64))
    with pytest.raises(ValueError, match="do not determine the gains"):
        gains_from_redundancy(y)


def test_non_finite_inputs_are_refused():
    with pytest.raises(ValueError, match="finite"):
        fit_from_polarizer(np.full((4, 4), np.nan), [0, 45, 90, 135])
    with pytest.raises(ValueError, match="finite"):
        gains_from_redundancy(np.full((20, 4), np.inf))
