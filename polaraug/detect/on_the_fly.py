"""Training on translations made as the frames are loaded: no stored copy of the translated set.

:class:`OnTheFlyDataset` is ultralytics' YOLODataset whose ``load_image`` reads an RGB frame, resizes it as
ultralytics does (long side to ``imgsz``), translates it at that size and encodes it for the detector, in
OpenCV channel order (ultralytics reads 3- and 4-channel images as BGR(A)); images outside the RGB folders
(the real polarimetric frames a listing mixes in) are read as they are. The RGB set's labels are used as
they are. :func:`on_the_fly_trainer` gives a DetectionTrainer that builds such datasets and runs them through
:func:`polaraug.augment.yolo.polarize_pipeline`, like :func:`~polaraug.augment.yolo.polar_trainer`::

    YOLO("yolov8n.yaml").train(data="data.yaml", trainer=on_the_fly_trainer(OnTheFly(roots=("rgb/images",))))

A frame's image depends only on the frame, the translator and ``seed`` (the translator is deterministic; the
optional sensor noise is seeded by ``seed`` and the frame's path under its set's root). It differs from a
stored translation read at the same size: the translator sees the frame at the training resolution instead of
its own, and the sensor model, if any, adds its noise at that resolution.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch  # before ultralytics: imported first, it sets OMP_NUM_THREADS=1, and torch would keep 1 thread
from ultralytics.data.dataset import YOLODataset

from polaraug.augment.yolo import _file_order, polar_trainer
from polaraug.data.encodings import check_encoding
from polaraug.data.export.encoded import encoded_image
from polaraug.errors import ConfigError, InputError
from polaraug.physics.quantize import quantize_admissible
from polaraug.translate.backends import BACKENDS


@dataclass(frozen=True)
class OnTheFly:
    """What translating a frame at load time needs: paths and numbers only, so that it pickles into dataloader
    workers.

    Attributes:
        roots: folders of RGB images; an image under one of them is translated, any other is read as it is.
        checkpoint: translator checkpoint (``default``: the built-in translator).
        encoding: the detector's encoding (intensities, stokes, i0-i45-i90 or hsv).
        calibration: a camera file or built-in name to translate for instead of the checkpoint's camera
            (Stokes-head translators), as ``translate --calibration``.
        sensor: write every frame through the camera's sensor model when its file has one, as ``translate``.
        seed: seeds each frame's sensor noise, together with the frame's path under its set's root.
        device: where the translator runs: cpu, or a CUDA device when the dataloader has no workers.
        threads: torch CPU threads of the process that translates (None: leave torch's setting); ONNX Runtime
            takes as many.
        backend: auto, torch or onnxruntime, as ``translate --backend`` (auto: ONNX Runtime on the CPU when it
            is installed; its images differ from torch's by at most 1 step at 8 bits).
    """

    roots: tuple[str, ...]
    checkpoint: str = "default"
    encoding: str = "intensities"
    calibration: str | None = None
    sensor: bool = True
    seed: int = 0
    device: str = "cpu"
    threads: int | None = None
    backend: str = "auto"

    def __post_init__(self) -> None:
        check_encoding(self.encoding)
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"threads must be at least 1, got {self.threads}")


class _Loaded(NamedTuple):
    model: Any  # polaraug.translate.model.Translator, in eval mode
    a: np.ndarray  # (4, 3) float64 matrix of the camera it translates for
    sensor: Any  # polaraug.physics.sensor.SensorModel or None


def as_rgb(image: np.ndarray) -> np.ndarray:
    """An image as OpenCV reads it -> RGB.

    Args:
        image: (H, W) or (H, W, 1) grey, (H, W, 3) BGR or (H, W, 4) BGRA; uint8 or uint16.

    Returns:
        (H, W, 3) RGB of the same dtype (alpha dropped, grey repeated).
    """
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    if image.shape[2] not in (3, 4):
        raise InputError(f"expected an RGB image to translate, got {image.shape[2]} channels")
    return np.ascontiguousarray(image[..., 2::-1])


class FrameTranslator:
    """Translates frames for one :class:`OnTheFly`; the translator is loaded on first use, once per process
    (a dataloader worker loads its own: pickling leaves the model behind)."""

    def __init__(self, spec: OnTheFly) -> None:
        self.spec = spec
        self._roots = tuple(Path(r).resolve() for r in spec.roots)
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()  # ultralytics' cache=ram loads images from a thread pool

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_loaded", "_lock")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _loaded=None, _lock=threading.Lock())

    def translates(self, path: str | Path) -> bool:
        """Whether an image is an RGB frame to translate.

        Args:
            path: the image's file.

        Returns:
            True when it lies under one of the spec's roots (links resolved).
        """
        return self.frame_key(path) is not None

    def frame_key(self, path: str | Path) -> str | None:
        """The frame's path under the root it lies in (e.g. ``images/100k/train/a.jpg``), which seeds its sensor
        noise: frames of one name in two splits get their own.

        Args:
            path: the image's file.

        Returns:
            The relative path in POSIX form, or None when the file lies under none of the spec's roots.
        """
        resolved = Path(path).resolve()
        root = next((r for r in self._roots if resolved.is_relative_to(r)), None)
        return None if root is None else resolved.relative_to(root).as_posix()

    def loaded(self) -> _Loaded:
        """The translator (eval mode, on its backend), its (4, 3) camera matrix and its sensor model (None: no
        sensor), loaded on the first call in this process.

        Raises:
            CheckpointError: the checkpoint cannot be used; InputError: a bad calibration or backend.
        """
        with self._lock:
            return self._loaded or self._load()

    def _load(self) -> _Loaded:
        """Load the translator (called under the lock, once per process)."""
        from polaraug.cameras import load_camera
        from polaraug.translate.backends import resolve_backend, use_backend
        from polaraug.translate.dataset import load_for_translation

        if self.spec.threads is not None:
            torch.set_num_threads(self.spec.threads)
        camera = load_camera(self.spec.calibration) if self.spec.calibration else None
        model, camera = load_for_translation(self.spec.checkpoint, self.spec.device, camera)
        use_backend(model, resolve_backend(self.spec.backend, torch.device(self.spec.device).type, model))
        self._loaded = _Loaded(model, camera.matrix(np.float64), camera.sensor if self.spec.sensor else None)
        return self._loaded

    def intensities(self, rgb: np.ndarray, key: str) -> np.ndarray:
        """Translate one RGB frame at its own size.

        Args:
            rgb: (H, W, 3) uint8/uint16 RGB.
            key: the frame's :meth:`frame_key` (seeds its sensor noise with ``seed``).

        Returns:
            (H, W, 4) float32 intensities I0, I45, I90, I135 (through the sensor model, if any).
        """
        from polaraug.physics.sensor import capture
        from polaraug.translate.infer import translate_image

        model, _, sensor = self.loaded()
        y = translate_image(model, rgb)
        if sensor is not None:
            y = capture(y, sensor, np.random.default_rng([self.spec.seed, zlib.crc32(key.encode())]))
        return y

    def __call__(self, image: np.ndarray, path: str | Path) -> np.ndarray:
        """An RGB frame as OpenCV read it -> its translation as ultralytics would read the stored, encoded one.

        Args:
            image: (H, W, 3) BGR (or grey, BGRA) uint8/uint16, already at the training size.
            path: the frame's file.

        Returns:
            (H, W, C) uint8 in OpenCV order (BGR(A) of the file's channels), C = the encoding's channels.
        """
        y = self.intensities(as_rgb(image), self.frame_key(path) or Path(path).name)
        model, a, sensor = self.loaded()
        if self.spec.encoding == "intensities" and sensor is None and model.admissible:
            # admissible by construction: export's repair would only move it by float rounding (and costs
            # about as much CPU as the translation at 640 px); quantising keeps it admissible
            return _file_order(quantize_admissible(y, a, 8))
        return _file_order(encoded_image(y, a, self.spec.encoding))


class OnTheFlyDataset(YOLODataset):
    """YOLODataset whose RGB frames (``frames.translates``) are translated as they are loaded.

    Args:
        *args, **kwargs: YOLODataset's.
        frames: translates the RGB frames (shared by the datasets of one trainer).
    """

    def __init__(self, *args: Any, frames: FrameTranslator, **kwargs: Any) -> None:
        self.frames = frames  # before the base's __init__, which may load (cache) images
        super().__init__(*args, **kwargs)

    def load_image(self, i: int, rect_mode: bool = True,
                   resize_short: bool = False) -> tuple[np.ndarray, tuple[int, int], tuple[int, int]]:
        """As YOLODataset's: (image (H, W, C), original (h, w), resized (h, w)); an RGB frame is read and resized
        by the base, then translated. A translated frame takes the RGB frame's place in the base's mosaic
        buffer (and RAM cache), so that it is translated once while it stays there."""
        if self.ims[i] is not None or not self.frames.translates(self.im_files[i]):
            return super().load_image(i, rect_mode, resize_short)
        rgb, hw0, _ = super().load_image(i, rect_mode, resize_short)
        im = self.frames(rgb, self.im_files[i])
        if self.ims[i] is not None:  # buffered by the base
            self.ims[i] = im
        return im, hw0, im.shape[:2]


def on_the_fly_trainer(spec: OnTheFly, camera: Any = None, threads: int | None = None) -> type:
    """A DetectionTrainer class whose datasets translate ``spec.roots``' frames as they are loaded, training
    ones through :func:`polaraug.augment.yolo.polarize_pipeline`.

    Args:
        spec: what to translate and how.
        camera: the camera of the augmentation (as :func:`polar_trainer`; None: ideal).
        threads: torch CPU threads of the training (as :func:`polar_trainer`; None: every core).

    Returns:
        A ``DetectionTrainer`` subclass for ``YOLO(...).train(trainer=...)``; its ``frames`` attribute is the
        :class:`FrameTranslator` every dataset it builds shares.
    """
    from ultralytics.data import build

    frames = FrameTranslator(spec)

    class OnTheFlyTrainer(polar_trainer(spec.encoding, camera, threads)):
        def build_dataset(self, img_path: str, mode: str = "train", batch: int | None = None):
            # ultralytics' build_yolo_dataset names its dataset class as a module global
            original = build.YOLODataset
            build.YOLODataset = partial(OnTheFlyDataset, frames=frames)
            try:
                return super().build_dataset(img_path, mode, batch)
            finally:
                build.YOLODataset = original

    OnTheFlyTrainer.frames = frames
    return OnTheFlyTrainer
