import math

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from polaraug.physics import (
    aolp,
    dolp,
    intensities_from_stokes,
    mirror_intensities,
    mirror_stokes,
    rotate_intensities,
    rotate_stokes,
    stokes_from_intensities,
)
from tests.conftest import IDEAL, cameras, random_stokes

angles = st.floats(-2 * math.pi, 2 * math.pi)
seeds = st.integers(0, 2**32 - 1)


@given(angles, seeds)
def test_rotation_moves_aolp_by_phi_and_keeps_dolp_and_s0(phi, seed):
    s = random_stokes(np.random.default_rng(seed), (50,), admissible=True)
    r = rotate_stokes(s, phi)
    np.testing.assert_allclose(r[:, 0], s[:, 0])
    np.testing.assert_allclose(dolp(r), dolp(s), atol=1e-12)
    diff = np.mod(aolp(r) - aolp(s) - phi + math.pi / 2, math.pi) - math.pi / 2  # circular, period π
    keep = dolp(s) > 1e-6  # AoLP is undefined for unpolarized light
    np.testing.assert_allclose(diff[keep], 0, atol=1e-9)


@given(angles, seeds)
def test_rotation_by_phi_then_minus_phi_is_identity(phi, seed):
    s = random_stokes(np.random.default_rng(seed), (20,))
    np.testing.assert_allclose(rotate_stokes(rotate_stokes(s, phi), -phi), s, atol=1e-12)


@given(cameras(), angles, seeds)
def test_intensity_rotation_inverts_and_keeps_dolp_for_any_camera(a, phi, seed):
    rng = np.random.default_rng(seed)
    y = rng.uniform(0, 1, (20, 4))  # with calibration residual
    back = rotate_intensities(rotate_intensities(y, phi, a), -phi, a)
    np.testing.assert_allclose(back, y, atol=1e-10)
    np.testing.assert_allclose(mirror_intensities(mirror_intensities(y, a), a), y, atol=1e-10)
    s, s_rot = stokes_from_intensities(y, a), stokes_from_intensities(rotate_intensities(y, phi, a), a)
    np.testing.assert_allclose(dolp(s_rot), dolp(s), atol=1e-9)
    np.testing.assert_allclose(dolp(mirror_stokes(s)), dolp(s), atol=1e-12)


@given(seeds)
def test_mirror_twice_is_identity_and_mirrors_aolp(seed):
    s = random_stokes(np.random.default_rng(seed), (30,), admissible=True)
    m = mirror_stokes(s)
    np.testing.assert_allclose(mirror_stokes(m), s)
    np.testing.assert_allclose(m[:, 2], -s[:, 2])
    keep = dolp(s) > 1e-6
    diff = np.mod(aolp(m) - (math.pi - aolp(s)) + math.pi / 2, math.pi) - math.pi / 2
    np.testing.assert_allclose(diff[keep], 0, atol=1e-9)


def test_ideal_camera_transforms_are_channel_permutations(rng):
    y = rng.uniform(0, 1, (25, 4))  # arbitrary, including residual
    np.testing.assert_allclose(mirror_intensities(y, IDEAL), y[:, [0, 3, 2, 1]], atol=1e-12)
    np.testing.assert_allclose(rotate_intensities(y, math.pi / 2, IDEAL), y[:, [2, 3, 0, 1]], atol=1e-12)
    # 45°: I'_θ = I_{θ-45} (exact for intensities the camera model explains)
    y_ok = intensities_from_stokes(random_stokes(rng, (25,)), IDEAL)
    np.testing.assert_allclose(rotate_intensities(y_ok, math.pi / 4, IDEAL), y_ok[:, [3, 0, 1, 2]], atol=1e-12)


def test_torch_channels_first_agrees(rng):
    y = rng.uniform(0, 1, (3, 3, 4)).astype(np.float32)
    yt = torch.from_numpy(y).permute(2, 0, 1)[None]
    out = rotate_intensities(yt, 0.3, IDEAL)[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(out, rotate_intensities(y, 0.3, IDEAL), atol=1e-6)
