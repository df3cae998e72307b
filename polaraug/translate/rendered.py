"""Paired training data that does not run out: renders made while the translator trains.

A fixed set of rendered pairs is memorised (a 20-minute paired run scored worse than a 6-minute one). Here
the training pairs live in an in-memory cache of ``cache`` frames, and every ``refresh`` steps one new frame
replaces the oldest: frame k (k = 0, 1, 2, ...) is ``polaraug synth``'s frame k of its domain (domains taken
in turn, so the renderer's weather, sun, materials, exposure and camera randomisation all vary), rendered
by worker processes ahead of need. What the cache holds at a step is a function of the step alone, so a
run is reproducible and a resume rebuilds exactly the cache it left.

Twins are what a translator should learn: the RGB frame as the domain's camera captures it (noise, 8-bit
sRGB, JPEG as BDD100K ships them) and, by default, the polarimetric frame without sensor noise or mosaic
(``targets="clean"``), since ``translate`` applies the target camera's sensor after the generator.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from polaraug.cameras import Camera, load_camera
from polaraug.errors import InputError
from polaraug.io.parallel import process_pool

from .data import pair_sample

TARGETS = ("clean", "captured")
PREFETCH = 8  # frames requested from the workers ahead of need


@dataclass(frozen=True)
class RenderSpec:
    """What to render for training.

    Attributes:
        width, height: frame size in pixels.
        cache: frames held in memory (the first ``cache`` are rendered before training starts).
        refresh: steps between two new frames (0: never, the fixed-set control).
        domains: rendering domains, taken in turn frame by frame.
        seed: the renders' seed (frame k of domain d is ``polaraug synth --domain d --seed seed``'s frame k).
        targets: "clean" (noise-free, no mosaic, 16 bits) or "captured" (the domain's own sensor).
        workers: rendering processes.
    """

    width: int = 192
    height: int = 144
    cache: int = 800
    refresh: int = 4
    domains: tuple[str, ...] = ("default", "shifted")
    seed: int = 0
    targets: str = "clean"
    workers: int = 2

    def __post_init__(self) -> None:
        from polaraug.synth.domain import get_domain

        if self.cache < 1 or self.refresh < 0 or self.workers < 1:
            raise InputError("renders: need cache >= 1, refresh >= 0 and workers >= 1")
        if self.targets not in TARGETS:
            raise InputError(f"renders: targets must be one of {TARGETS}, got {self.targets!r}")
        if not self.domains:
            raise InputError("renders: name at least one domain")
        for d in self.domains:
            get_domain(d)  # InputError naming the known domains

    def frames_due(self, step: int) -> int:
        """How many frames have entered the cache by ``step`` (the cache's newest is this minus one)."""
        return self.cache + (step // self.refresh if self.refresh else 0)

    def to_dict(self) -> dict:
        return {"width": self.width, "height": self.height, "cache": self.cache, "refresh": self.refresh,
                "domains": list(self.domains), "seed": self.seed, "targets": self.targets}


def render_pair(spec: RenderSpec, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Frame ``k`` of the endless set: (RGB (H, W, 3) uint8 as decoded from its JPEG, ideal-camera
    intensities (H, W, 4) uint16)."""
    from polaraug.synth.generate import SynthConfig, domain_sensor, render_scene
    from polaraug.synth.sensor import capture_polar, capture_rgb

    domain = spec.domains[k % len(spec.domains)]
    cfg = SynthConfig(n=k + 1, width=spec.width, height=spec.height, seed=spec.seed, mode="paired", domain=domain)
    rng, _, _, out = render_scene(cfg, k)
    rgb = capture_rgb(out.rgb, cfg.sensor, rng)
    ok, jpeg = cv2.imencode(".jpg", rgb[..., ::-1])  # BDD100K's frames are JPEGs; so are synth's
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    rgb = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[..., ::-1]
    ideal = load_camera("ideal")
    sensor = cfg.sensor if spec.targets == "captured" else domain_sensor(cfg.dom, ideal, bits=16, dofp=False,
                                                                           noise=False)
    y = capture_polar(out.stokes, ideal.matrix(np.float64), sensor, rng)
    return np.ascontiguousarray(rgb), y


_SPEC: RenderSpec | None = None


def _init_worker(spec: RenderSpec) -> None:
    global _SPEC
    _SPEC = spec


def _work(k: int) -> tuple[int, np.ndarray, np.ndarray]:
    assert _SPEC is not None
    return (k, *render_pair(_SPEC, k))


@dataclass
class RenderedPairs:
    """Sampler of aligned (RGB, polarimetric) crops from the renders in the cache at each step.

    The twins are in the ideal camera's units (the Stokes head is exact for any camera; ``translate``
    re-expresses its output in the target's). Use as a context manager (or call :meth:`close`) to stop
    the rendering workers.
    """

    spec: RenderSpec
    crop: int
    batch: int
    seed: int = 0
    rank: int = 0
    context: int = 0
    camera: Camera = field(default_factory=lambda: load_camera("ideal"))
    _frames: dict = field(default_factory=dict, repr=False)  # slot -> (k, rgb, polar)
    _pending: deque = field(default_factory=deque, repr=False)  # (k, AsyncResult)
    _next: int = field(default=0, repr=False)  # next frame index to request
    _pool: object = field(default=None, repr=False)

    @property
    def steps_per_epoch(self) -> int:
        """Steps per pass over the cache (the learning-rate schedule's epoch)."""
        return max(1, self.spec.cache // self.batch)

    def _start(self) -> None:
        if self._pool is None:  # spawn: the trainer's process already runs torch's thread pools
            self._pool = process_pool(self.spec.workers, _init_worker, (self.spec,), start_method="spawn")

    def _request(self, upto: int) -> None:
        """Keep frames up to ``upto`` (exclusive) requested."""
        self._start()
        while self._next < upto:
            self._pending.append((self._next, self._pool.apply_async(_work, (self._next,))))
            self._next += 1

    def _advance(self, step: int) -> None:
        """Bring the cache to the state of ``step``: every slot holds its newest frame due by then."""
        due = self.spec.frames_due(step)
        oldest = due - self.spec.cache
        if self._next < oldest:  # a resume (or a jump): skip frames no slot holds any more
            self._pending.clear()
            self._next = oldest
        self._request(due + (PREFETCH if self.spec.refresh else 0))
        while self._pending and self._pending[0][0] < due:
            k, result = self._pending.popleft()
            _, rgb, polar = result.get()
            self._frames[k % self.spec.cache] = (k, rgb, polar)

    def batch_at(self, step: int) -> tuple[torch.Tensor, ...]:
        """The batch of global step ``step``: as :meth:`PairedCrops.batch_at`."""
        self._advance(step)
        rng = np.random.default_rng([self.seed, step, 11] + ([self.rank] if self.rank else []))
        out = []
        for slot in rng.integers(0, self.spec.cache, self.batch):
            _, rgb, polar = self._frames[int(slot)]
            out.append(pair_sample(rgb.astype(np.float32) / 255, polar.astype(np.float32) / 65535, self.crop, rng,
                                   context=self.context))
        return tuple(torch.stack(parts) for parts in zip(*out, strict=True))

    def sample_rgb(self) -> np.ndarray:
        """The frame training samples show: the set's first frame, (H, W, 3) uint8 (from the cache while it
        holds it, rendered again otherwise)."""
        held = self._frames.get(0)
        return held[1] if held is not None and held[0] == 0 else render_pair(self.spec, 0)[0]

    def close(self) -> None:
        """Stop the rendering workers."""
        if self._pool is not None:
            self._pool.terminate()
            self._pool = None
            self._pending.clear()

    def __enter__(self) -> RenderedPairs:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
