import math

import numpy as np
import torch
from hypothesis import assume, example, given
from hypothesis import strategies as st

from polaraug.physics import (
    aolp,
    camera_matrix,
    dolp,
    intensities_from_stokes,
    mirror_intensities,
    mirror_stokes,
    rotate_intensities,
    rotate_stokes,
    stokes_from_intensities,
)
from tests.conftest import IDEAL, cameras, random_stokes
from tests.physics.edges import (
    EDGE_STOKES,
    FULLY_POLARIZED,
    circular_error,
    edge_cameras,
    well_conditioned_extinction_ratios,
    with_edge_rows,
)

angles = st.floats(-2 * math.pi, 2 * math.pi)
seeds = st.integers(0, 2**32 - 1)


FULL = slice(-len(EDGE_STOKES), -len(EDGE_STOKES) + len(FULLY_POLARIZED))  # DoLP = 1 rows of with_edge_rows
DARK = -len(EDGE_STOKES) + len(FULLY_POLARIZED)  # the s0 = 0 row


@given(angles, seeds)
@example(math.pi / 2, 0)
@example(-math.pi / 2, 0)
@example(math.pi, 0)
@example(0.0, 0)
def test_rotation_moves_aolp_by_phi_and_keeps_dolp_and_s0(phi, seed):
    s = with_edge_rows(random_stokes(np.random.default_rng(seed), (50,), admissible=True))
    r = rotate_stokes(s, phi)
    np.testing.assert_allclose(r[:, 0], s[:, 0])
    np.testing.assert_allclose(dolp(r), dolp(s), atol=1e-12)
    diff = np.mod(aolp(r) - aolp(s) - phi + math.pi / 2, math.pi) - math.pi / 2  # circular, period π
    keep = dolp(s) > 1e-6  # AoLP is undefined for unpolarized light
    np.testing.assert_allclose(diff[keep], 0, atol=1e-9)
    np.testing.assert_allclose(dolp(r)[FULL], 1.0, atol=1e-12)  # fully polarized stays fully polarized
    np.testing.assert_array_equal(r[DARK], 0.0)  # no light stays no light


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
    s = with_edge_rows(random_stokes(np.random.default_rng(seed), (30,), admissible=True))
    m = mirror_stokes(s)
    np.testing.assert_allclose(mirror_stokes(m), s)
    np.testing.assert_allclose(m[:, 2], -s[:, 2])
    keep = dolp(s) > 1e-6
    diff = np.mod(aolp(m) - (math.pi - aolp(s)) + math.pi / 2, math.pi) - math.pi / 2
    np.testing.assert_allclose(diff[keep], 0, atol=1e-9)
    np.testing.assert_array_equal(dolp(m)[FULL], 1.0)  # exact: only a sign changes


def _aolp_dolp(y, a):
    s = stokes_from_intensities(y, a)
    return aolp(s), dolp(s)


def _stokes_svd(y, a):
    """A† y with numpy's SVD pseudo-inverse (error ~ eps · cond(A)), so that only the transform is tested."""
    return y @ np.linalg.pinv(np.asarray(a, np.float64)).T


# Ideal polarizers (ER = inf), none at all (ER = 1) and real ones. ER just above 1 makes A ill-conditioned, so
# float64 itself cannot check exactness there (see test_camera / test_stokes for that edge).
@given(edge_cameras(well_conditioned_extinction_ratios()), angles, seeds)
@example(camera_matrix(extinction_ratios=[math.inf, 1.0, 1.0, math.inf], dtype=np.float64), 1.0, 0)  # rank 3
@example(camera_matrix(extinction_ratios=[math.inf, 1.0, math.inf, 1.0], dtype=np.float64), 1.0, 0)  # rank 2
@example(camera_matrix(extinction_ratios=[1.0] * 4, dtype=np.float64), 1.0, 0)  # rank 1
@example(IDEAL, math.pi / 2, 0)
@example(IDEAL, math.pi, 0)
@example(IDEAL, -3 * math.pi / 2, 0)
def test_intensity_transforms_move_every_pixels_aolp(a, phi, seed):
    """rotate_intensities / mirror_intensities for any camera (ER from 1 to inf), intensities with a
    calibration residual: AoLP' = AoLP + φ and π - AoLP at every pixel (max circular error, not a median),
    DoLP kept. Pixels whose AoLP is undefined (DoLP ~ 0: unpolarized or dark) are skipped: any AoLP is
    right for them."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([rng.uniform(0, 1, (40, 4)), intensities_from_stokes(EDGE_STOKES, a)])
    s, s_r, s_m = (_stokes_svd(v, a) for v in (y, rotate_intensities(y, phi, a), mirror_intensities(y, a)))
    n = np.hypot(s[:, 1], s[:, 2])
    if np.linalg.matrix_rank(a) < 3:
        # No polarizer (ER = 1) or polarizers along one Stokes axis only (e.g. 0° and 90°): the camera sees
        # part of the linear polarization at most, and a turned or mirrored state is re-measured by the same
        # partly blind camera. It can lose polarization, never gain it, and keeps s0.
        for t in (s_r, s_m):
            np.testing.assert_allclose(t[:, 0], s[:, 0], atol=1e-12)
            assert np.all(np.hypot(t[:, 1], t[:, 2]) <= n + 1e-12)
        return
    cond = np.linalg.cond(a)
    # Two polarizers left at nearly the same Stokes direction (0° and 90° + ε) make A ill-conditioned even
    # with perfect ERs; exactness in float64 is then out of reach, not a transform error.
    assume(cond < 1e3)
    tol = 1e-14 * cond * np.abs(y).max()  # Stokes error of float64 through A† and back
    keep = n > 1e-9  # AoLP of unpolarized pixels (n = 0) is undefined: any value is right there
    assert keep.sum() >= 40 + len(FULLY_POLARIZED) - 1  # all but the darkest edge rows are checked
    aolp_tol = tol / n[keep]  # per pixel: an error δ in (s1, s2) turns AoLP by at most δ / |(s1, s2)|
    assert np.all(circular_error(aolp(s_r), aolp(s) + phi)[keep] <= aolp_tol)
    assert np.all(circular_error(aolp(s_m), math.pi - aolp(s))[keep] <= aolp_tol)
    for t in (s_r, s_m):
        np.testing.assert_allclose(t[:, 0], s[:, 0], atol=tol)  # s0 and the polarized part's size kept
        np.testing.assert_allclose(np.hypot(t[:, 1], t[:, 2]), n, atol=tol)


def test_ideal_channel_permutations_move_every_pixels_aolp(rng):
    """Ideal camera: the channel permutations of a 90° turn (I0 <-> I90, I45 <-> I135) and of a mirror
    (I45 <-> I135) are exact, also for intensities with a calibration residual; a 45° shift of the channels
    (I'_θ = I_{θ+45}: a turn by -45°) is exact for intensities the model explains. Every polarized pixel's
    AoLP moves accordingly (unpolarized pixels, DoLP = 0, have no AoLP and are skipped)."""
    y = np.concatenate([rng.uniform(0, 1, (200, 4)), intensities_from_stokes(EDGE_STOKES, IDEAL)])
    y_model = intensities_from_stokes(stokes_from_intensities(y, IDEAL), IDEAL)  # residual removed
    ao, do = _aolp_dolp(y, IDEAL)
    keep = do > 1e-9
    assert keep.sum() == len(y) - 3  # all but the dark and the two unpolarized rows
    for out, expected in ((y[:, [2, 3, 0, 1]], ao + math.pi / 2), (y[:, [0, 3, 2, 1]], math.pi - ao),
                          (y_model[:, [1, 2, 3, 0]], ao - math.pi / 4)):
        ao_p, do_p = _aolp_dolp(out, IDEAL)
        assert circular_error(ao_p, expected)[keep].max() < 1e-12
        np.testing.assert_allclose(do_p, do, atol=1e-12)


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
