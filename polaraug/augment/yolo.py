"""Ultralytics integration: detector training on polarimetric encodings with physical augmentation.

Ultralytics' own pipeline flips images (``fliplr``, ``flipud``) and warps them (``RandomPerspective``:
degrees, shear) without touching polarization, which corrupts AoLP; ``RandomHSV`` treats channels as
colours; ``CopyPaste`` in flip mode pastes mirrored objects with unmirrored polarization.
:func:`polarize_pipeline` rewrites a built pipeline: flips and warps get polarization-aware subclasses,
RandomHSV becomes a gain on the light (value/intensity) only, and flip-mode CopyPaste and ultralytics'
own albumentations step (blur, ToGray, CLAHE) are switched off.
:func:`polar_trainer` gives a DetectionTrainer that does this to every training dataset it builds::

    YOLO("yolov8n.yaml").train(data="data.yaml", trainer=polar_trainer("intensities"), ...)
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from ultralytics.data.augment import (
    Albumentations,
    BaseTransform,
    Compose,
    CopyPaste,
    RandomFlip,
    RandomHSV,
    RandomPerspective,
)

from polaraug.data.encodings import check_encoding

from .albu import camera_matrix_of
from .functional import gain, polarize
from .pose import Pose, pose_from_matrix


def _file_order(img: np.ndarray) -> np.ndarray:
    """ultralytics reads images with OpenCV, so 3- and 4-channel images sit in its pipeline as BGR(A):
    (I90, I45, I0, I135) for intensities. This swaps to the file's order and back (self-inverse)."""
    if img.ndim == 3 and img.shape[2] in (3, 4):
        return np.ascontiguousarray(img[..., [2, 1, 0, *range(3, img.shape[2])]])
    return img


def _in_file_order(fn, img: np.ndarray, *args: Any) -> np.ndarray:
    return _file_order(fn(_file_order(img), *args))


class PolarRandomFlip(RandomFlip):
    """ultralytics RandomFlip whose flipped images have mirrored polarization."""

    def __init__(self, p: float = 0.5, direction: str = "horizontal", flip_idx: list[int] | None = None,
                 encoding: str = "intensities", camera: Any = None) -> None:
        super().__init__(p=p, direction=direction, flip_idx=flip_idx)
        self.encoding = check_encoding(encoding)
        self.camera = camera_matrix_of(camera)

    def apply_image(self, labels: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        labels = super().apply_image(labels, params)
        if params["flip"]:
            labels["img"] = _in_file_order(polarize, labels["img"], Pose(mirror=True), self.encoding, self.camera)
        return labels


class PolarRandomPerspective(RandomPerspective):
    """ultralytics RandomPerspective whose warped images have their polarization rotated (and mirrored)
    with the warp (the nearest rotation of its linear part)."""

    encoding: str = "intensities"
    camera: np.ndarray | None = None

    def apply_image(self, labels: dict[str, Any], params: dict[str, Any] | None = None) -> dict[str, Any]:
        labels = super().apply_image(labels, params)
        h, w = labels["img"].shape[:2]
        pose = pose_from_matrix(params["M"], at=(w / 2, h / 2))  # local rotation at the centre (perspective)
        labels["img"] = _in_file_order(polarize, labels["img"], pose, self.encoding, self.camera)
        return labels


class PolarGainHSV(BaseTransform):
    """Replaces RandomHSV: only the value gain is kept, as a physical gain on the light."""

    def __init__(self, vgain: float, encoding: str, camera: np.ndarray | None) -> None:
        super().__init__()
        self.vgain, self.encoding, self.camera = vgain, encoding, camera

    def __call__(self, labels: dict[str, Any]) -> dict[str, Any]:
        if self.vgain:
            factor = 1.0 + random.uniform(-1, 1) * self.vgain
            labels["img"] = _in_file_order(gain, labels["img"], factor, self.encoding, self.camera)
        return labels


def _replace(t: Any, encoding: str, camera: np.ndarray | None, seen: dict[int, Any], report: list[str]) -> Any:
    if id(t) in seen:  # the same RandomPerspective sits in several pre_transforms
        return seen[id(t)]
    new = t
    if isinstance(t, RandomFlip) and not isinstance(t, PolarRandomFlip):
        new = PolarRandomFlip(t.p, t.direction, t.flip_idx, encoding, camera)
        report.append(f"RandomFlip({t.direction}, p={t.p}) -> PolarRandomFlip")
    elif isinstance(t, RandomPerspective) and not isinstance(t, PolarRandomPerspective):
        new = PolarRandomPerspective.__new__(PolarRandomPerspective)
        new.__dict__.update(t.__dict__)
        new.encoding, new.camera = encoding, camera
        report.append(f"RandomPerspective(degrees={t.degrees}, shear={t.shear}) -> PolarRandomPerspective")
    elif isinstance(t, RandomHSV):
        new = PolarGainHSV(t.vgain, encoding, camera)
        report.append(f"RandomHSV(h={t.hgain}, s={t.sgain}, v={t.vgain}) -> gain only (v={t.vgain})")
    elif isinstance(t, Albumentations) and t.transform is not None and t.p > 0:
        t.p = 0.0
        report.append("Albumentations (blur, ToGray, CLAHE, ...) -> off (colour ops scramble polarization channels)")
    elif isinstance(t, CopyPaste) and t.mode == "flip" and t.p > 0:
        t.p = 0.0
        report.append("CopyPaste(mode=flip) -> off (it pastes mirrored objects)")
    if isinstance(new, Compose):
        new.transforms = [_replace(x, encoding, camera, seen, report) for x in new.transforms]
    for attr in ("pre_transform",):  # Mosaic/MixUp/CutMix/CopyPaste keep their own pipelines
        inner = getattr(new, attr, None)
        if inner is not None:
            setattr(new, attr, _replace(inner, encoding, camera, seen, report))
    seen[id(t)] = new
    return new


def polarize_pipeline(pipeline: Any, encoding: str = "intensities", camera: Any = None) -> tuple[Any, list[str]]:
    """Rewrite an ultralytics transform pipeline (a Compose, e.g. ``dataset.transforms``) for a
    polarimetric encoding; returns (pipeline, one line per change)."""
    report: list[str] = []
    out = _replace(pipeline, check_encoding(encoding), camera_matrix_of(camera), {}, report)
    return out, report


def polar_trainer(encoding: str = "intensities", camera: Any = None, threads: int | None = None) -> type:
    """A DetectionTrainer class whose training datasets use :func:`polarize_pipeline`, training on ``threads``
    torch threads on the CPU (None: every core, see :func:`polaraug.engine.device.with_cpu_threads`)."""
    from ultralytics.models.yolo.detect import DetectionTrainer

    from polaraug.engine.device import with_cpu_threads

    check_encoding(encoding)

    class PolarDetectionTrainer(DetectionTrainer):
        polar_report: list[str] = []

        def build_dataset(self, img_path: str, mode: str = "train", batch: int | None = None):
            dataset = super().build_dataset(img_path, mode, batch)
            if mode == "train":
                dataset.transforms, report = polarize_pipeline(dataset.transforms, encoding, camera)
                type(self).polar_report = report
            return dataset

    return with_cpu_threads(PolarDetectionTrainer, threads)
