"""The ultralytics pipeline, rewritten by polarize_pipeline, flips polarization with the image."""

import os

import numpy as np
import pytest

from polaraug.data.export import export_yolo
from polaraug.data.frame import Box, Frame
from polaraug.io.images import write_image
from polaraug.physics import aolp, dolp, stokes_from_intensities
from polaraug.physics.quantize import quantize_admissible
from tests.augment.field import IDEAL, abs_aolp_error, annulus, aolp_error_deg, radial_field

SIZE = 64


@pytest.fixture(scope="module")
def yolo_set(tmp_path_factory):
    os.environ.setdefault("YOLO_OFFLINE", "true")
    root = tmp_path_factory.mktemp("yolo")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(root / "cfg"))
    img = quantize_admissible(radial_field(SIZE), IDEAL, 8)
    frames = [Frame(f"f{i}.png", write_image(root / "src" / f"f{i}.png", img), [Box(10, 10, 30, 40, "car")],
                    SIZE, SIZE) for i in range(2)]
    export_yolo({"train": frames, "val": frames}, root / "set", channels=4)
    return root / "set" / "data.yaml"


def _dataset(data_yaml, **hyp):
    from ultralytics.cfg import get_cfg
    from ultralytics.data import build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset

    overrides = {"imgsz": SIZE, "mosaic": 0.0, "scale": 0.0, "translate": 0.0, "hsv_h": 0.0, "hsv_s": 0.0,
                 "hsv_v": 0.0, "fliplr": 0.0, "flipud": 0.0, "degrees": 0.0, **hyp}
    cfg = get_cfg(overrides=overrides)
    data = check_det_dataset(str(data_yaml))
    return build_yolo_dataset(cfg, data["train"], 2, data, mode="train", rect=False, stride=32)


def _aolp_of_item(item):
    bgra = item["img"].permute(1, 2, 0).numpy().astype(np.float64) / 255  # ultralytics keeps OpenCV order
    y = bgra[..., [2, 1, 0, 3]]
    return aolp(stokes_from_intensities(y, IDEAL))


def test_rewritten_pipeline_mirrors_and_rotates_polarization(yolo_set):
    from polaraug.augment.yolo import polarize_pipeline

    naive = _dataset(yolo_set, fliplr=1.0)
    assert np.median(aolp_error_deg(_aolp_of_item(naive[0]), SIZE, annulus(SIZE, inner=8))) > 20

    fixed = _dataset(yolo_set, fliplr=1.0, degrees=30.0, hsv_v=0.3)
    fixed.transforms, report = polarize_pipeline(fixed.transforms, "intensities")
    assert any("PolarRandomFlip" in r for r in report) and any("PolarRandomPerspective" in r for r in report)
    assert any("RandomHSV" in r for r in report) and any("Albumentations" in r for r in report)
    for _ in range(3):
        err = aolp_error_deg(_aolp_of_item(fixed[0]), SIZE, annulus(SIZE, inner=8, outer_frac=0.3))
        assert np.median(err) < 3.0  # 8-bit data, bilinear warp, letterbox: a few degrees at most


def test_rewritten_flip_gets_every_pixel_aolp_right(yolo_set):
    """A flip alone is exact (a channel permutation of 8-bit data): check every pixel, not the median."""
    from polaraug.augment.yolo import polarize_pipeline

    ds = _dataset(yolo_set, fliplr=1.0)
    ds.transforms, _ = polarize_pipeline(ds.transforms, "intensities")
    frame = quantize_admissible(radial_field(SIZE), IDEAL, 8).astype(np.float64) / 255  # the exported frame
    s_in = stokes_from_intensities(frame, IDEAL)
    ao_out = _aolp_of_item(ds[0])
    # The radial field maps onto itself under the flip, so each pixel's AoLP error against it is carried
    # along (sign flipped by the mirror): equal in size to that of its source pixel, the mirror image.
    err_in = abs_aolp_error(aolp(s_in), SIZE)[:, ::-1]
    err_out = abs_aolp_error(ao_out, SIZE)
    defined = dolp(s_in)[:, ::-1] > 1e-6  # unpolarized pixels have no AoLP (this field has none: DoLP >= 0.2)
    assert defined.all()
    assert np.abs(err_out - err_in)[defined].max() < 1e-9
    naive = _dataset(yolo_set, fliplr=1.0)
    assert np.abs(abs_aolp_error(_aolp_of_item(naive[0]), SIZE) - err_in).max() > 1.0  # the check can fail


def test_polar_trainer_class_rewrites_training_datasets(yolo_set):
    from polaraug.augment.yolo import polar_trainer

    trainer_cls = polar_trainer("intensities")
    assert trainer_cls.__name__ == "PolarDetectionTrainer"
    with pytest.raises(ValueError, match="unknown encoding"):
        polar_trainer("rgb")


@pytest.mark.parametrize("encoding", ["intensities", "stokes", "i0-i45-i90", "hsv"])
def test_flip_in_yolo_training_equals_physics_mirror_for_each_encoding(tmp_path, encoding):
    """ultralytics' flip, rewritten for ``encoding``: flip then encode-from-Stokes == the physics mirror."""
    from polaraug.augment.yolo import polarize_pipeline
    from polaraug.data.export.encoded import encoded_image
    from polaraug.physics import mirror_intensities

    y = radial_field(SIZE)
    frame = Frame("f.png", write_image(tmp_path / "src" / "f.png", encoded_image(y, IDEAL, encoding)),
                  [Box(10, 10, 30, 40, "car")], SIZE, SIZE)
    channels = 4 if encoding == "intensities" else 3
    export_yolo({"train": [frame]}, tmp_path / "set", channels=channels)
    ds = _dataset(tmp_path / "set" / "data.yaml", fliplr=1.0)
    ds.transforms, _ = polarize_pipeline(ds.transforms, encoding)
    got = ds[0]["img"].permute(1, 2, 0).numpy().astype(np.int16)
    if channels == 4:
        got = got[..., [2, 1, 0, 3]]  # ultralytics keeps 4-channel images in OpenCV order, 3-channel in file order
    want = encoded_image(mirror_intensities(np.ascontiguousarray(y[:, ::-1]), IDEAL), IDEAL, encoding).astype(np.int16)
    diff = np.abs(got - want)
    if encoding == "hsv":  # periodic hue
        diff[..., 0] = np.minimum(diff[..., 0], 256 - diff[..., 0])
    assert np.percentile(diff, 99) <= 1 and diff.max() <= 3  # 8-bit rounding on both paths
    naive = np.abs(np.ascontiguousarray(encoded_image(y, IDEAL, encoding)[:, ::-1]).astype(np.int16) - want)
    assert naive.max() > 20  # a plain flip is wrong by far more: the check can fail
