"""Compiled kernels of the transforms: in-place channel permutations (flips and quarter turns of the ideal
camera) and the rounded, checked channel map of integer images."""

import numpy as np
import pytest


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32, np.float64])
def test_in_place_permutations_equal_the_copying_ones(dtype):
    import itertools

    from polaraug.augment._kernels import permute_channels_inplace
    from polaraug.augment.functional import permute_channels

    img = (np.random.default_rng(3).random((7, 9, 4)) * 200).astype(dtype)
    for perm in itertools.permutations(range(4)):
        expected = permute_channels(img, perm)
        work = img.copy()
        assert permute_channels_inplace(work, perm) is work
        np.testing.assert_array_equal(work, expected)


def test_albumentations_flips_never_change_their_input():
    import albumentations as A

    from polaraug.augment.albu import PolarHorizontalFlip, PolarRandomRotate90

    img = (np.random.default_rng(4).random((16, 12, 4)) * 255).astype(np.uint8)
    before = img.copy()
    for t in (PolarHorizontalFlip(p=1), PolarRandomRotate90(p=1), A.Compose([PolarHorizontalFlip(p=1)])):
        for _ in range(8):  # every quarter turn, including none (which may hand back the input itself)
            t(image=img)
            np.testing.assert_array_equal(img, before)
    flipped = PolarHorizontalFlip(p=1)(image=img)["image"]
    np.testing.assert_array_equal(flipped, img[:, ::-1][..., [0, 3, 2, 1]])  # I45 <-> I135


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_compiled_channel_map_rounds_like_opencv_and_finds_every_violator(dtype):
    import cv2

    from polaraug.augment._kernels import available, mix_integer_ideal
    from polaraug.augment.functional import Pose, intensity_pose_matrix, polarize
    from polaraug.physics import camera_matrix, intensities_from_stokes
    from polaraug.physics.quantize import _ideal_violators, quantize_admissible

    if not available():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(5)
    top = np.iinfo(dtype).max
    m = intensity_pose_matrix(Pose(False, 0.4))
    noise = rng.integers(0, top + 1, (37, 53, 4)).astype(dtype)  # mostly far outside the cone
    out, bad = mix_integer_ideal(noise, m)
    exact = np.clip(np.rint(noise @ m.T), 0, top)  # float64, ties to even
    assert out.dtype == dtype and out.shape == noise.shape
    assert np.abs(out - exact).max() <= 1 and (out != exact).mean() < 1e-3  # 8-bit maps run in float32
    assert (out != cv2.transform(noise, m)).mean() < 1e-2  # OpenCV maps 16-bit data in float32
    assert np.abs(out.astype(np.int64) - cv2.transform(noise, m)).max() <= 1
    np.testing.assert_array_equal(bad, np.flatnonzero(_ideal_violators(out).ravel()))
    assert bad.size > 0
    # Admissible, strongly polarized input: rounding pushes a few pixels out, which the transform nudges back.
    s0 = rng.uniform(0.2, 1, (37, 53))
    ang = rng.uniform(0, np.pi, (37, 53))
    s = np.stack([s0, s0 * np.cos(2 * ang), s0 * np.sin(2 * ang)], -1)  # DoLP 1: on the cone
    a = camera_matrix(dtype=np.float64)
    img = quantize_admissible(intensities_from_stokes(s, a) / 1.01, a, 8 if dtype == np.uint8 else 16)
    out, bad = mix_integer_ideal(img, m)
    assert bad.size > 0
    fixed = polarize(img, Pose(False, 0.4))  # the transforms' path: the violators nudged, nothing else
    assert fixed.dtype == dtype and not _ideal_violators(fixed).any()
    untouched = np.ones(out.shape[:2], bool).ravel()
    untouched[bad] = False
    np.testing.assert_array_equal(fixed.reshape(-1, 4)[untouched], out.reshape(-1, 4)[untouched])


def test_in_place_plane_permutations_equal_the_gather_and_kornia_flips_keep_their_input():
    import itertools

    import torch

    from polaraug.augment.functional import _permute_planes_
    from polaraug.augment.kornia_aug import PolarRandomHorizontalFlip, PolarRandomRotation

    x = torch.rand(5, 4, 6, 7)
    all_perms = list(itertools.permutations(range(4)))
    for perms in ([all_perms[3]] * 5, [all_perms[i] for i in (0, 5, 9, 23, 5)]):  # shared and per-sample
        idx = torch.as_tensor(perms)[:, :, None, None].expand(-1, -1, 6, 7)
        expected = torch.gather(x, 1, idx)
        work = x.clone()
        assert _permute_planes_(work, perms) is work
        torch.testing.assert_close(work, expected, rtol=0, atol=0)
    before = x.clone()
    flipped = PolarRandomHorizontalFlip(p=1)(x)
    torch.testing.assert_close(x, before, rtol=0, atol=0)
    torch.testing.assert_close(flipped, x.flip(-1)[:, [0, 3, 2, 1]], rtol=0, atol=0)  # I45 <-> I135
    PolarRandomRotation(degrees=(90.0, 90.0), p=1)(x)  # a quarter turn: a permutation too
    torch.testing.assert_close(x, before, rtol=0, atol=0)
