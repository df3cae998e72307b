import albumentations as A
import kornia.augmentation as K
import numpy as np
import pytest
import torch

from polaraug.augment import albu as P
from polaraug.augment import kornia_aug as PK
from polaraug.augment.functional import polarize, polarize_torch
from polaraug.augment.pose import Pose
from polaraug.data.encodings import encode
from polaraug.physics import aolp, dolp, stokes_from_intensities
from tests.augment.field import (
    IDEAL,
    abs_aolp_error,
    annulus,
    aolp_error_deg,
    radial_field,
    radial_field_with_unpolarized_centre,
)

SIZE = 96


def _batch(img):
    return torch.from_numpy(img).permute(2, 0, 1)[None].repeat(3, 1, 1, 1)


def _aolp(t):
    return aolp(stokes_from_intensities(t.permute(0, 2, 3, 1).double().numpy(), IDEAL))


@pytest.mark.parametrize("aug", [PK.PolarRandomHorizontalFlip(p=1.0), PK.PolarRandomVerticalFlip(p=1.0),
                                 PK.PolarRandomRotation(degrees=45.0, p=1.0),
                                 PK.PolarRandomAffine(degrees=60.0, scale=(0.9, 1.1), p=1.0)],
                         ids=lambda a: type(a).__name__)
def test_kornia_batches_follow_the_geometry(aug):
    torch.manual_seed(0)
    out = aug(_batch(radial_field(SIZE)))
    for b, ao in enumerate(_aolp(out)):
        m = aug.transform_matrix[b].double().numpy()
        centre = tuple((m @ np.array([(SIZE - 1) / 2, (SIZE - 1) / 2, 1.0]))[:2])
        scale = float(np.sqrt(abs(np.linalg.det(m[:2, :2]))))
        mask = annulus(SIZE, outer_frac=0.4 * min(scale, 1.0), centre=centre)
        assert aolp_error_deg(ao, SIZE, mask, centre).max() < 1.0


@pytest.mark.parametrize("aug", [PK.PolarRandomHorizontalFlip(p=1.0), PK.PolarRandomVerticalFlip(p=1.0)],
                         ids=lambda a: type(a).__name__)
def test_kornia_flips_get_every_pixel_aolp_right(aug):
    """Flips are exact: every pixel's AoLP error against the field (which a flip maps onto itself) is the
    error of its source pixel (the test above allows 1° on an annulus, as for interpolating warps)."""
    img = radial_field_with_unpolarized_centre(SIZE)
    t = torch.from_numpy(img).permute(2, 0, 1)[None].double()
    out = aug(t)
    m = aug.transform_matrix[0].double().numpy()
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    src = np.linalg.solve(m, np.stack([xx.ravel(), yy.ravel(), np.ones(xx.size)]))  # destination -> source
    sx, sy = np.rint(src[0]).astype(int), np.rint(src[1]).astype(int)
    assert np.allclose(src[:2], [sx, sy]) and np.unique(sy * SIZE + sx).size == SIZE * SIZE
    s_in = stokes_from_intensities(img.astype(np.float64), IDEAL)
    s_out = stokes_from_intensities(out[0].permute(1, 2, 0).numpy(), IDEAL)
    err_in = abs_aolp_error(aolp(s_in), SIZE)[sy, sx]
    err_out = abs_aolp_error(aolp(s_out), SIZE).ravel()
    dolp_in = dolp(s_in)[sy, sx]
    np.testing.assert_allclose(dolp(s_out).ravel(), dolp_in, atol=1e-12)
    defined = dolp_in > 1e-6  # unpolarized pixels (the centre disc) have no AoLP: any value is right there
    assert defined.mean() > 0.98
    assert np.abs(err_out - err_in)[defined].max() < 1e-9
    assert np.degrees(err_out[defined]).max() < 1e-3  # and absolutely right, to the input's float32 rounding


def _image_and_mask(box: tuple[slice, slice]):
    """A batch of 3 radial fields and a (3, 1, H, W) mask that is 1 inside ``box`` (rows, columns)."""
    mask = torch.zeros(3, 1, SIZE, SIZE)
    mask[:, :, box[0], box[1]] = 1
    return _batch(radial_field(SIZE)), mask


def _flip_rotate(degrees: float):
    return K.AugmentationSequential(PK.PolarRandomHorizontalFlip(p=1.0), PK.PolarRandomRotation(degrees=degrees, p=1.0),
                                    data_keys=["input", "mask"])


def test_masks_and_inverse_in_augmentation_sequential():
    img, mask = _image_and_mask((slice(10, 30), slice(40, 70)))
    seq = _flip_rotate(30.0)
    plain = K.AugmentationSequential(K.RandomHorizontalFlip(p=1.0), K.RandomRotation(degrees=30.0, p=1.0),
                                     data_keys=["input", "mask"])
    torch.manual_seed(1)
    out, out_mask = seq(img, mask)
    torch.manual_seed(1)
    _, plain_mask = plain(img, mask)
    torch.testing.assert_close(out_mask, plain_mask)  # masks: geometry only
    back = seq.inverse(out, data_keys=["input"])
    ao = _aolp(back)
    centre_mask = annulus(SIZE, outer_frac=0.3)
    assert np.median(aolp_error_deg(ao[0], SIZE, centre_mask)) < 1.0


@pytest.mark.parametrize("encoding", ["intensities", "stokes", "i0-i45-i90", "hsv"])
def test_numpy_albumentations_and_kornia_agree(encoding):
    enc = encode(radial_field(SIZE), IDEAL, encoding)
    poses = [Pose(mirror=True), Pose(phi=np.pi / 2), Pose(True, 0.7), Pose(False, -1.1)]
    t = torch.from_numpy(enc).permute(2, 0, 1)[None].repeat(len(poses), 1, 1, 1)
    out_t = polarize_torch(t, poses, encoding).permute(0, 2, 3, 1).numpy()
    for i, pose in enumerate(poses):
        out_np = polarize(enc, pose, encoding)
        if encoding == "hsv":
            d = np.abs(np.mod(out_np[..., 0] - out_t[i][..., 0] + 0.5, 1.0) - 0.5)
            assert d.max() < 1e-5
        else:
            np.testing.assert_allclose(out_np, out_t[i], atol=1e-5)
    # The albumentations and kornia flips give the same images.
    a = A.Compose([P.PolarHorizontalFlip(encoding=encoding, p=1)])(image=enc)["image"]
    k = PK.PolarRandomHorizontalFlip(encoding=encoding, p=1.0)(t[:1])[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(a, k, atol=1e-6)


def test_inverse_with_one_channel_masks_keeps_masks_geometric():
    img, mask = _image_and_mask((slice(20, 40), slice(10, 30)))
    seq = _flip_rotate(20.0)
    out, out_mask = seq(img, mask)
    back_img, back_mask = seq.inverse(out, out_mask, data_keys=["input", "mask"])
    assert back_mask.shape == mask.shape
    assert float((back_mask[:, :, 25:35, 15:25] > 0.5).float().mean()) == 1.0


def test_perspective_pose_uses_the_local_jacobian():
    from polaraug.augment.pose import pose_from_matrix

    c = np.array([50.0, 40.0])
    a = np.radians(20)
    rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [5e-3, 5e-3, 1]])
    shift = np.array([[1, 0, c[0]], [0, 1, c[1]], [0, 0, 1.0]])
    h = shift @ rot @ np.linalg.inv(shift)  # a rotation about c with perspective away from c
    assert pose_from_matrix(h, at=tuple(c)).phi == pytest.approx(-a, abs=1e-9)
    assert abs(pose_from_matrix(h).phi + a) > 0.01  # at the origin the perspective tilts the frame
