import math

import albumentations as A
import cv2
import numpy as np
import pytest

from polaraug.augment import albu as P
from polaraug.data.encodings import encode, to_dtype
from polaraug.physics import aolp, dolp, inadmissible_fraction, intensities_from_stokes, stokes_from_intensities
from polaraug.physics.quantize import check_quantized, quantize_admissible
from tests.augment.field import (
    IDEAL,
    abs_aolp_error,
    annulus,
    aolp_error_deg,
    geometry,
    radial_field,
    radial_field_with_unpolarized_centre,
)

SIZE = 96
EXACT = [P.PolarHorizontalFlip(p=1), P.PolarVerticalFlip(p=1), P.PolarRandomRotate90(p=1), P.PolarTranspose(p=1),
         P.PolarD4(p=1)]
INTERPOLATED = [P.PolarRotate(limit=(-40, 40), p=1), P.PolarSafeRotate(limit=(25, 25), p=1),
                P.PolarAffine(rotate=(-60, 60), scale=(0.8, 1.2), keep_ratio=True, p=1),
                P.PolarRotate(limit=(33, 33), interpolation=cv2.INTER_CUBIC, p=1)]


def _maps(img, a=IDEAL):
    y = img.astype(np.float64) / (1.0 if img.dtype.kind == "f" else np.iinfo(img.dtype).max)
    s = stokes_from_intensities(y, a)
    return s, aolp(s), dolp(s)


@pytest.mark.parametrize("transform", EXACT + INTERPOLATED, ids=lambda t: type(t).__name__)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aolp_follows_the_geometry_and_dolp_is_kept(transform, seed):
    img = radial_field(SIZE)
    res = A.Compose([transform], seed=seed, save_applied_params=True)(image=img)
    out = res["image"]
    assert out.shape == img.shape
    s, ao, do = _maps(out)
    params = res["applied_transforms"][0][1]
    scale, centre = 1.0, None
    if "matrix" in params:  # where the field's centre went (library centre conventions differ by 0.5 px)
        m = params["matrix"]
        scale = math.sqrt(abs(np.linalg.det(m[:2, :2])))
        centre = tuple((m @ np.array([(SIZE - 1) / 2, (SIZE - 1) / 2, 1.0]))[:2])
    mask = annulus(SIZE, outer_frac=0.4 * min(scale, 1.0), centre=centre)  # a shrunk image covers less
    exact = transform in EXACT
    assert aolp_error_deg(ao, SIZE, mask, centre).max() < (1e-3 if exact else 1.0)
    _, r = geometry(SIZE, centre)
    expected_dolp = 0.2 + 0.7 * np.clip(r / scale / (SIZE / 2), 0, 1)  # the field's DoLP where the pixel came from
    assert np.abs(do - expected_dolp)[mask].max() < (1e-5 if exact else 0.01)
    assert inadmissible_fraction(s, tol=1e-6) == 0


def test_a_naive_flip_fails_the_aolp_check():
    img = radial_field(SIZE)
    naive = A.Compose([A.HorizontalFlip(p=1)])(image=img)["image"]
    _, ao, _ = _maps(naive)
    assert np.median(aolp_error_deg(ao, SIZE, annulus(SIZE))) > 20
    # ... and mirror twice / rotate ± phi are identities with polaraug's.
    flip = A.Compose([P.PolarHorizontalFlip(p=1), P.PolarHorizontalFlip(p=1)])(image=img)["image"]
    np.testing.assert_array_equal(flip, img)
    there = A.Compose([P.PolarRotate(limit=(30, 30), p=1)])(image=img)["image"]
    back = A.Compose([P.PolarRotate(limit=(-30, -30), p=1)])(image=there)["image"]
    _, ao, _ = _maps(back)
    assert aolp_error_deg(ao, SIZE, annulus(SIZE, outer_frac=0.3)).max() < 1.0


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("transform", [EXACT[0], EXACT[4], INTERPOLATED[0], INTERPOLATED[3]],
                         ids=lambda t: type(t).__name__ if not isinstance(t, type) else t.__name__)
def test_integer_images_stay_admissible(dtype, transform):
    bits = 8 if dtype == np.uint8 else 16
    img = quantize_admissible(radial_field(SIZE), IDEAL, bits)
    out = A.Compose([transform], seed=3)(image=img)["image"]
    assert out.dtype == dtype and check_quantized(out, IDEAL) == 0
    _, ao, _ = _maps(out)
    err = aolp_error_deg(ao, SIZE, annulus(SIZE))
    if transform in EXACT:
        # Exact (a channel permutation): no pixel may be worse than the input's worst quantisation error
        # (the annulus maps onto itself); every pixel is checked, see also test_exact_transforms_*.
        _, ao_in, _ = _maps(img)
        assert err.max() <= aolp_error_deg(ao_in, SIZE, annulus(SIZE)).max() + 1e-9
    else:
        assert np.median(err) < 1.0  # interpolated integer data: only typical pixels are within 1°


def _per_pixel_aolp_mismatch(transform, img, seed):
    """Apply ``transform`` to ``img``; return (applied params, max over pixels of
    | |AoLP error after| - |AoLP error before, at the pixel's source| | in radians, max DoLP change).

    The field maps onto itself under the square's symmetries about its centre, so an exact transform
    carries each pixel's AoLP error (against the field's geometry) along: its size at the destination
    equals its size at the source (a mirror flips its sign). The source of every output pixel comes from
    moving an index mask with the same transform (masks get geometry only)."""
    idx = np.arange(SIZE * SIZE, dtype=np.int32).reshape(SIZE, SIZE)
    res = A.Compose([transform], seed=seed, save_applied_params=True)(image=img, mask=idx)
    src = res["mask"].ravel()
    assert np.array_equal(np.sort(src), idx.ravel())  # a permutation of the pixels
    _, ao_in, do_in = _maps(img)
    _, ao_out, do_out = _maps(res["image"])
    err_in = abs_aolp_error(ao_in, SIZE).ravel()[src]
    err_out = abs_aolp_error(ao_out, SIZE).ravel()
    # Skip only unpolarized pixels (DoLP = 0, the centre disc): their AoLP is undefined, so any value is
    # right there. Every other pixel counts, fully polarized ones included.
    defined = do_in.ravel()[src] > 1e-6
    assert defined.mean() > 0.98  # only the centre disc is skipped
    params = res["applied_transforms"][0][1]
    return params, np.abs(err_out - err_in)[defined].max(), np.abs(do_out.ravel() - do_in.ravel()[src]).max()


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.uint16])
@pytest.mark.parametrize("transform", EXACT, ids=lambda t: type(t).__name__)
def test_exact_transforms_get_every_pixel_aolp_right(transform, dtype):
    """Flips, quarter turns, transpose, D4: every pixel (not the median), every group element."""
    y = radial_field_with_unpolarized_centre(SIZE)
    img = y if dtype == np.float32 else quantize_admissible(y, IDEAL, 8 if dtype == np.uint8 else 16)
    seen = set()
    for seed in range(40):
        params, aolp_mismatch, dolp_change = _per_pixel_aolp_mismatch(transform, img, seed)
        assert aolp_mismatch < 1e-9 and dolp_change < 1e-9
        seen.add(str(params.get("group_element", params.get("factor"))))
    if isinstance(transform, P.PolarD4):
        assert seen == {"e", "r90", "r180", "r270", "h", "v", "t", "hvt"}
    if isinstance(transform, P.PolarRandomRotate90):
        assert seen == {"0", "1", "2", "3"}
    if dtype == np.float32:  # float data: also absolutely right, to float32 rounding (1e-4°)
        out = A.Compose([transform], seed=0)(image=img)["image"]
        ao, do = _maps(out)[1:]
        keep = do > 1e-6  # AoLP of unpolarized pixels is undefined
        assert aolp_error_deg(ao, SIZE, keep).max() < 1e-3


def test_the_per_pixel_check_catches_a_plain_flip():
    img = radial_field_with_unpolarized_centre(SIZE)
    _, aolp_mismatch, dolp_change = _per_pixel_aolp_mismatch(A.HorizontalFlip(p=1), img, 0)
    assert aolp_mismatch > 1.0 and dolp_change < 1e-9  # radians: a plain flip leaves AoLP unmirrored


@pytest.mark.parametrize("fmt", ["pascal_voc", "yolo"])
def test_boxes_and_masks_follow_the_image_as_in_albumentations(fmt):
    img = radial_field(SIZE)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[10:30, 50:80] = 1
    boxes = [[50, 10, 80, 30]] if fmt == "pascal_voc" else [[65 / SIZE, 20 / SIZE, 30 / SIZE, 20 / SIZE]]
    bbox = A.BboxParams(format=fmt, label_fields=["labels"])
    for polar, plain in ((P.PolarHorizontalFlip(p=1), A.HorizontalFlip(p=1)),
                         (P.PolarAffine(rotate=(-30, 30), p=1), A.Affine(rotate=(-30, 30), p=1)),
                         (P.PolarD4(p=1), A.D4(p=1))):
        a = A.Compose([polar], bbox_params=bbox, seed=5)(image=img, mask=mask, bboxes=boxes, labels=[1])
        b = A.Compose([plain], bbox_params=bbox, seed=5)(image=img, mask=mask, bboxes=boxes, labels=[1])
        np.testing.assert_allclose(a["bboxes"], b["bboxes"])
        np.testing.assert_array_equal(a["mask"], b["mask"])  # masks: geometry only
        assert set(np.unique(a["mask"])) <= {0, 1}


@pytest.mark.parametrize("encoding", ["stokes", "i0-i45-i90", "hsv"])
@pytest.mark.parametrize("transform", [P.PolarHorizontalFlip, P.PolarRandomRotate90, P.PolarTranspose])
def test_other_encodings_transform_like_intensities(encoding, transform):
    """Encode then transform == transform the intensities then encode (flips, quarter turns: exact)."""
    y = radial_field(SIZE)
    t_enc = transform(encoding=encoding, p=1)
    t_int = transform(p=1)
    a = A.Compose([t_enc], seed=4)(image=encode(y, IDEAL, encoding))["image"]
    b = encode(A.Compose([t_int], seed=4)(image=y)["image"], IDEAL, encoding)
    if encoding == "hsv":  # hue is periodic
        d = np.abs(np.mod(a[..., 0] - b[..., 0] + 0.5, 1.0) - 0.5)
        assert d[annulus(SIZE)].max() < 1e-4
        np.testing.assert_allclose(a[..., 1:], b[..., 1:], atol=1e-5)
    else:
        np.testing.assert_allclose(a, b, atol=2e-5)


def test_hsv_uint8_hue_shift_is_exact_and_periodic():
    y = radial_field(SIZE)
    enc = encode(y, IDEAL, "hsv")
    img = to_dtype(enc, np.uint8, "hsv")
    out = A.Compose([P.PolarRandomRotate90(encoding="hsv", p=1)], seed=1)(image=img)["image"]
    twice = A.Compose([P.PolarHorizontalFlip(encoding="hsv", p=1)] * 2)(image=img)["image"]
    np.testing.assert_array_equal(twice, img)
    assert out.dtype == np.uint8


def test_photometric_transforms_keep_aolp_and_dolp_and_admissibility(rng):
    img = quantize_admissible(radial_field(SIZE), IDEAL, 16)
    for t in (P.PolarGain(gain_range=(1.6, 1.6), p=1), P.PolarSensorNoise(std_range=(0.01, 0.01), p=1)):
        out = A.Compose([t], seed=2)(image=img)["image"]
        assert check_quantized(out, IDEAL) == 0
        _, ao, do = _maps(out)
        assert np.median(aolp_error_deg(ao, SIZE, annulus(SIZE))) < 2.0
    # Gain below the range keeps DoLP exactly (up to rounding).
    out = A.Compose([P.PolarGain(gain_range=(0.5, 0.5), p=1)])(image=radial_field(SIZE))["image"]
    np.testing.assert_allclose(_maps(out)[2][annulus(SIZE)], _maps(radial_field(SIZE))[2][annulus(SIZE)], atol=1e-5)
    with pytest.raises(ValueError, match="before encoding"):
        A.Compose([P.PolarSensorNoise(encoding="hsv", p=1)])(image=to_dtype(encode(radial_field(8), IDEAL, "hsv"),
                                                                            np.uint8, "hsv"))


def test_non_ideal_camera_flip_is_physical(rng):
    from polaraug.physics import camera_matrix

    a = camera_matrix([1, 44, 91, 136], [1.05, 0.97, 1.0, 0.98], [80, 120, 60, 100], dtype=np.float64)
    img = radial_field(SIZE, a)
    out = A.Compose([P.PolarHorizontalFlip(camera=a, p=1)])(image=img)["image"]
    _, ao, _ = _maps(out, a)
    assert aolp_error_deg(ao, SIZE, annulus(SIZE)).max() < 1e-3
    assert math.isfinite(float(out.sum()))


@pytest.mark.parametrize("transform", [P.PolarHorizontalFlip(p=1), P.PolarD4(p=1),
                                       P.PolarAffine(rotate=(-40, 40), p=1)], ids=lambda t: type(t).__name__)
def test_batched_images_target_is_polarized_per_image(transform):
    img = radial_field(SIZE)
    res = A.Compose([transform], seed=6, save_applied_params=True)(images=np.stack([img, img]))
    params = res["applied_transforms"][0][1]
    centre = None
    if "matrix" in params:
        centre = tuple((params["matrix"] @ np.array([(SIZE - 1) / 2, (SIZE - 1) / 2, 1.0]))[:2])
    for out in res["images"]:
        _, ao, _ = _maps(out)
        assert aolp_error_deg(ao, SIZE, annulus(SIZE, outer_frac=0.3, centre=centre), centre).max() < 1.0


def test_hsv_integer_encoding_stores_hue_periodically():
    x = np.zeros((1, 2, 3), np.float32)
    x[0, 0, 0] = 179.9 / 180  # AoLP 179.9°: next to 0°, stored as 0, not 255
    x[0, 1, 0] = 0.5
    out = to_dtype(x, np.uint8, "hsv")
    assert out[0, 0, 0] == 0 and out[0, 1, 0] == 128


def test_fix_admissible_works_on_views():
    from polaraug.physics.quantize import fix_admissible

    rng = np.random.default_rng(0)
    ang = rng.uniform(0, np.pi, (32, 32))
    s0 = rng.uniform(0.1, 1, (32, 32))
    y = intensities_from_stokes(np.stack([s0, s0 * np.cos(2 * ang), s0 * np.sin(2 * ang)], -1), IDEAL)
    q = np.zeros((32, 32, 5), np.uint8)
    q[..., :4] = np.round(np.clip(y, 0, 1) * 255)  # fully polarized: plain rounding breaks many pixels
    view = q[:, :30, :4]  # a view that reshape cannot flatten without copying
    assert check_quantized(np.ascontiguousarray(view), IDEAL) > 0
    fixed = fix_admissible(view, IDEAL)
    assert check_quantized(fixed, IDEAL) == 0
