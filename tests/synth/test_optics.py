import math

import numpy as np
import pytest

from polaraug.synth.optics import diffuse_dolp, fresnel_reflectance, rayleigh_dolp, specular_dolp, stokes_of


def test_fresnel_limits_and_brewster():
    n = 1.5
    rs, rp = fresnel_reflectance(np.array([1.0]), n)
    assert rs[0] == pytest.approx(((n - 1) / (n + 1)) ** 2) and rp[0] == pytest.approx(rs[0])
    brewster = math.atan(n)
    assert fresnel_reflectance(np.array([math.cos(brewster)]), n)[1][0] == pytest.approx(0, abs=1e-12)
    assert specular_dolp(np.array([math.cos(brewster)]), n)[0] == pytest.approx(1.0)
    assert specular_dolp(np.array([1.0]), n)[0] == pytest.approx(0.0, abs=1e-12)


def test_specular_polarization_exceeds_diffuse_at_oblique_angles():
    # Up to ~80°: towards grazing incidence specular DoLP falls back to 0 while diffuse DoLP keeps rising.
    cos = np.cos(np.radians(np.linspace(20, 75, 12)))
    for n in (1.33, 1.5, 1.6):
        assert np.all(specular_dolp(cos, n) > diffuse_dolp(cos, n))
    assert np.all(diffuse_dolp(cos, 1.5) < 0.2) and diffuse_dolp(np.array([1.0]), 1.5)[0] == 0


def test_rayleigh_is_maximal_at_ninety_degrees():
    assert rayleigh_dolp(np.array([0.0]), 0.7)[0] == pytest.approx(0.7)
    assert rayleigh_dolp(np.array([1.0]), 0.7)[0] == 0


def test_stokes_of_measures_aolp_counter_clockwise_as_displayed():
    right, up = np.array([1.0, 0, 0]), np.array([0, 1.0, 0])
    e = np.array([[1.0, 0, 0], [0, 1.0, 0], [math.sqrt(0.5), math.sqrt(0.5), 0]])
    s = stokes_of(np.ones(3), np.full(3, 0.5), e, right, up)
    np.testing.assert_allclose(s, [[1, 0.5, 0], [1, -0.5, 0], [1, 0, 0.5]], atol=1e-12)  # 0°, 90°, 45°
