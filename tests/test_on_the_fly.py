"""On-the-fly translation for detector training: the dataset's images are the translator's output at the
training size, encoded as a stored translation would be; labels are the RGB set's; the trainer's datasets
go through the polarization-aware pipeline."""

import math
import os
import pickle
import shutil
import time

import cv2
import numpy as np
import pytest

from polaraug.detect.datasets import export_polar, export_rgb, images, listing_yaml
from polaraug.detect.on_the_fly import OnTheFly
from polaraug.synth.generate import SynthConfig, generate

IMGSZ = 64


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """A paired set: rgb/ (the frames to translate) and polar/ (stands in for real frames), exported as YOLO
    sets; a listing of both rooted at the polarimetric set (4 channels)."""
    root = tmp_path_factory.mktemp("otf")
    os.environ.setdefault("YOLO_OFFLINE", "true")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(root / "cfg"))
    generate(SynthConfig(n=3, width=96, height=64, seed=5, mode="paired", val_fraction=0.0), root / "src",
             workers=1, progress=False)
    real = export_polar(root / "src" / "polar", root / "real", "intensities")
    rgb = export_rgb(root / "src" / "rgb", root / "rgb")
    data = listing_yaml(real, "mixed", images(rgb) + images(real), images(real))
    return {"root": root, "real": real, "rgb": rgb, "data": data}


def _dataset(data_yaml, spec=None, **hyp):
    """A training dataset of ``data_yaml`` at IMGSZ without random augmentation (with ``spec``: on the fly)."""
    from functools import partial

    from ultralytics.cfg import get_cfg
    from ultralytics.data import build, build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset

    from polaraug.detect.on_the_fly import FrameTranslator, OnTheFlyDataset

    overrides = {"imgsz": IMGSZ, "mosaic": 0.0, "scale": 0.0, "translate": 0.0, "hsv_h": 0.0, "hsv_s": 0.0,
                 "hsv_v": 0.0, "fliplr": 0.0, "flipud": 0.0, "degrees": 0.0, **hyp}
    cfg, data = get_cfg(overrides=overrides), check_det_dataset(str(data_yaml))
    original = build.YOLODataset
    if spec is not None:
        build.YOLODataset = partial(OnTheFlyDataset, frames=FrameTranslator(spec))
    try:
        return build_yolo_dataset(cfg, data["train"], 2, data, mode="train", rect=False, stride=32)
    finally:
        build.YOLODataset = original


def _expected(path, encoding="intensities", exported=False):
    """translate_batch's output for the RGB file resized as ultralytics resizes, encoded, in OpenCV order:
    intensities quantised admissibly (the translator's output is admissible), other encodings (and with
    ``exported``, intensities too) as export-yolo encodes a stored translation."""
    from polaraug.augment.yolo import _file_order
    from polaraug.data.export.encoded import encoded_image
    from polaraug.physics.quantize import quantize_admissible
    from polaraug.translate.dataset import load_for_translation
    from polaraug.translate.infer import rgb_to_tensor, translate_batch

    model, camera = load_for_translation("default", "cpu")
    bgr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    h0, w0 = bgr.shape[:2]
    r = IMGSZ / max(h0, w0)
    size = (min(math.ceil(w0 * r), IMGSZ), min(math.ceil(h0 * r), IMGSZ))
    rgb = cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR)[..., ::-1]
    y = translate_batch(model, rgb_to_tensor(rgb))[0].permute(1, 2, 0).numpy()
    a = camera.matrix(np.float64)
    if encoding == "intensities" and not exported:
        return _file_order(quantize_admissible(y, a, 8))
    return _file_order(encoded_image(y, a, encoding))


def _spec(sets, **kw):
    """The RGB set's spec; torch unless ``backend`` is given, so that images equal translate_batch's exactly."""
    from polaraug.detect.on_the_fly import OnTheFly

    return OnTheFly(roots=(str(sets["rgb"] / "images"),), **{"backend": "torch", **kw})


def test_rgb_frames_are_translated_at_the_training_size_and_real_frames_read_as_they_are(sets):
    ds = _dataset(sets["data"], _spec(sets))
    plain = _dataset(sets["data"])
    rgb = [i for i, f in enumerate(ds.im_files) if f.startswith(str(sets["rgb"].resolve()))]
    assert len(rgb) == 3 and len(ds.im_files) == 6
    for i in range(len(ds.im_files)):
        im, hw0, hw = ds.load_image(i)
        if i in rgb:
            assert im.shape == (math.ceil(64 * IMGSZ / 96), IMGSZ, 4) and im.dtype == np.uint8 and hw0 == (64, 96)
            np.testing.assert_array_equal(im, _expected(ds.im_files[i]))
            exported = np.abs(im.astype(int) - _expected(ds.im_files[i], exported=True))
            assert exported.max() <= 1 and (exported == 0).mean() > 0.999  # export's repair: rounding only
            assert not np.array_equal(im[..., :3], plain.load_image(i)[0][..., :3])  # not the RGB frame
        else:
            np.testing.assert_array_equal(im, plain.load_image(i)[0])


def test_same_frame_and_seed_give_the_same_image_and_the_sensor_seed_changes_it(sets, tmp_path):
    from polaraug.detect.on_the_fly import FrameTranslator

    cam = tmp_path / "noisy.yaml"
    cam.write_text("schema: polaraug-camera/1\nname: noisy\nangles_deg: [0, 45, 90, 135]\ngains: [1, 1, 1, 1]\n"
                   "extinction_ratios: [.inf, .inf, .inf, .inf]\nsensor:\n  noise_a: 0.01\n  noise_b: 0.0001\n")
    frame = images(sets["rgb"])[0]
    bgr = cv2.imread(str(frame))
    one = FrameTranslator(_spec(sets, calibration=str(cam), seed=1))
    again = pickle.loads(pickle.dumps(one))  # as a dataloader worker gets it
    assert one(bgr, frame).shape == (64, 96, 4)
    assert again._loaded is None  # the model stays behind; the worker loads its own
    np.testing.assert_array_equal(one(bgr, frame), again(bgr, frame))
    fresh = FrameTranslator(_spec(sets, calibration=str(cam), seed=1))
    np.testing.assert_array_equal(one(bgr, frame), fresh(bgr, frame))
    other_seed = FrameTranslator(_spec(sets, calibration=str(cam), seed=2))(bgr, frame)
    assert np.abs(other_seed.astype(int) - one(bgr, frame)).max() > 0
    quiet = FrameTranslator(_spec(sets, calibration=str(cam), seed=1, sensor=False))(bgr, frame)
    assert np.abs(quiet.astype(int) - one(bgr, frame)).max() > 0  # the sensor model is applied
    # a frame of the same name in another split is another frame: its own noise
    root = tmp_path / "set"
    for split in ("train", "val"):
        (root / split).mkdir(parents=True)
        shutil.copy(frame, root / split / frame.name)
    split_spec = FrameTranslator(OnTheFly(roots=(str(root),), backend="torch", calibration=str(cam), seed=1))
    train, val = (split_spec(bgr, root / s / frame.name) for s in ("train", "val"))
    assert split_spec.frame_key(root / "val" / frame.name) == f"val/{frame.name}"
    assert np.abs(train.astype(int) - val).max() > 0


def test_threads_asking_for_the_translator_at_once_load_it_once(sets, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    import polaraug.translate.dataset as dataset
    from polaraug.detect.on_the_fly import FrameTranslator

    calls = []
    load = dataset.load_for_translation

    def slow_load(*args, **kwargs):
        calls.append(1)
        time.sleep(0.2)  # a load takes long enough for every thread to ask before it ends
        return load(*args, **kwargs)

    monkeypatch.setattr(dataset, "load_for_translation", slow_load)
    frames = FrameTranslator(_spec(sets))
    with ThreadPoolExecutor(4) as pool:
        loaded = list(pool.map(lambda _: frames.loaded(), range(4)))
    assert len(calls) == 1 and all(x is loaded[0] for x in loaded)


def test_onnx_runtime_backend_is_within_one_step_of_torch_and_deterministic(sets):
    from polaraug.detect.on_the_fly import FrameTranslator

    frame = images(sets["rgb"])[1]
    bgr = cv2.imread(str(frame))
    onnx = FrameTranslator(_spec(sets, backend="onnxruntime"))
    got = onnx(bgr, frame)
    assert type(onnx.loaded().model.g.net).__name__ == "OnnxNet"
    np.testing.assert_array_equal(got, FrameTranslator(_spec(sets, backend="onnxruntime"))(bgr, frame))
    assert np.abs(got.astype(int) - FrameTranslator(_spec(sets))(bgr, frame)).max() <= 1
    assert FrameTranslator(_spec(sets, backend="auto")).loaded().model.g.net.backend == "onnxruntime"


def test_labels_are_the_rgb_sets(sets):
    ds = _dataset(sets["data"], _spec(sets))
    rgb_only = _dataset(sets["rgb"] / "data.yaml")
    mine = {os.path.basename(lb["im_file"]): lb for lb in ds.labels}
    assert len(rgb_only.labels) == 3
    for lb in rgb_only.labels:
        got = mine[os.path.basename(lb["im_file"])]
        np.testing.assert_array_equal(got["cls"], lb["cls"])
        np.testing.assert_array_equal(got["bboxes"], lb["bboxes"])
        assert len(lb["cls"]) > 0


@pytest.mark.parametrize("encoding", ["stokes"])
def test_three_channel_encodings(sets, tmp_path, encoding):
    real = export_polar(sets["root"] / "src" / "polar", tmp_path / "real3", encoding)
    data = listing_yaml(real, "mixed", images(sets["rgb"]), images(real))
    ds = _dataset(data, _spec(sets, encoding=encoding))
    im = ds.load_image(0)[0]
    assert im.shape[2] == 3
    np.testing.assert_array_equal(im, _expected(ds.im_files[0], encoding))


def test_trainer_builds_on_the_fly_datasets_through_the_polarization_aware_pipeline(sets):
    from ultralytics.data.augment import RandomFlip

    from polaraug.augment.yolo import PolarRandomFlip
    from polaraug.detect.on_the_fly import OnTheFlyDataset, on_the_fly_trainer

    cls = on_the_fly_trainer(_spec(sets))
    trainer = cls(overrides={"data": str(sets["data"]), "model": "yolov8n.yaml", "imgsz": IMGSZ, "epochs": 1,
                             "batch": 2, "workers": 0, "device": "cpu", "plots": False,
                             "project": str(sets["root"] / "runs"), "name": "t", "exist_ok": True})
    trainer.model = trainer.get_model(cfg="yolov8n.yaml", weights=None, verbose=False)
    ds = trainer.build_dataset(trainer.data["train"], mode="train", batch=2)
    assert isinstance(ds, OnTheFlyDataset) and ds.frames is cls.frames
    flips = [t for t in ds.transforms.transforms if isinstance(t, RandomFlip)]
    assert flips and all(isinstance(t, PolarRandomFlip) for t in flips)
    assert any("PolarRandomFlip" in r for r in cls.polar_report)
    item = ds[0]
    assert item["img"].shape[0] == 4 and len(item["cls"]) >= 0
    val = trainer.build_dataset(trainer.data["val"], mode="val", batch=2)
    assert isinstance(val, OnTheFlyDataset) and not any(val.frames.translates(f) for f in val.im_files)
    from ultralytics.data import build

    assert build.YOLODataset.__name__ == "YOLODataset"  # the patch is undone


def test_eval_detection_trains_an_on_the_fly_arm_from_rgb_frames(sets, tmp_path, monkeypatch):
    """1 seed, 1 epoch, 64 px: plumbing, not AP. The arm's training translates the RGB pool's frames as it
    loads them; the oracle's twins are checked against the RGB set's frame names; the translator is an input."""
    import json
    import shutil

    from typer.testing import CliRunner

    from polaraug.cli import app
    from polaraug.detect.on_the_fly import FrameTranslator
    from polaraug.translate.builtin import builtin_translator

    src = sets["root"] / "src"
    translated: list[str] = []
    call = FrameTranslator.__call__
    monkeypatch.setattr(FrameTranslator, "__call__", lambda self, im, path: translated.append(str(path)) or
                        call(self, im, path))
    args = ["eval-detection", "--real-train", str(src / "polar"), "--real-test", str(src / "polar"), "--on-the-fly",
            f"otf={src / 'rgb'}", "--oracle", str(src / "polar"), "--out", str(tmp_path / "o"), "--seeds", "1",
            "--epochs", "1", "--imgsz", "64", "--batch", "2", "--control", "none"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output + repr(res.exception)
    results = json.loads((tmp_path / "o" / "results.json").read_text())
    assert list(results["arms"]) == ["real", "real+otf", "real+oracle"]
    assert results["arms"]["real+otf"]["on_the_fly"] is True and "on_the_fly" not in results["arms"]["real+oracle"]
    pool = (tmp_path / "o" / "datasets" / "on_the_fly_otf" / "images").resolve()
    assert translated and all(p.startswith(str(pool)) for p in translated)
    assert any("PolarRandomFlip" in r for r in results["augmentation"])
    settings = json.loads((tmp_path / "o" / "settings.json").read_text())
    assert "on_the_fly:otf" in settings and "translator" in settings

    other = shutil.copy(builtin_translator(), tmp_path / "other.pt")
    res = CliRunner().invoke(app, [*args, "--translator", str(other)])
    assert res.exit_code == 2 and "translator" in res.output  # scores made with another translator are not reused
    res = CliRunner().invoke(app, [*args[:-2], "--synthetic", f"otf={src / 'polar'}"])
    assert res.exit_code == 2 and "names both" in res.output
    (tmp_path / "bad.pt").write_text("not a checkpoint")
    res = CliRunner().invoke(app, [*args, "--translator", str(tmp_path / "bad.pt"), "--out", str(tmp_path / "p")])
    assert res.exit_code == 2 and "bad.pt" in res.output and not (tmp_path / "p" / "datasets").exists()
