"""In-place channel permutations (flips and quarter turns of the ideal camera)."""

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
