"""``polaraug synth``: render labelled road scenes into an RGB set, a polarimetric set, or paired sets.

Frame i of seed s is drawn from its own generator ``default_rng([s, i])``: output is deterministic, frames
render in parallel worker processes, and a rerun skips frames already written (each frame's labels are
kept under ``.synth/`` until the label files are assembled). All writes are atomic.

``SynthConfig.domain`` picks the rendering domain (synth/domain.py): "default" (the pretraining renderer)
or "shifted" (another camera, sensor and scene distribution, for an honest benchmark). ``masks`` adds a
per-pixel surface label PNG per frame (values in SURFACE_LEGEND).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from polaraug.cameras import Camera, load_camera
from polaraug.data.export import write_bdd100k_labels, write_kitti_labels
from polaraug.data.frame import Box, Frame
from polaraug.data.polarset import PolarSetWriter
from polaraug.errors import InputError
from polaraug.io.atomic import remove_stale_temporaries, write_text
from polaraug.io.images import write_image
from polaraug.io.lock import output_lock
from polaraug.io.parallel import process_pool

from .domain import Domain, get_domain
from .render import Rendered, render
from .scene import MATERIAL_NAMES, WEATHERS, Scene, Weather, random_scene, random_weather
from .sensor import SensorConfig, capture_polar, capture_rgb

MODES = ("rgb", "polar", "paired")
RGB_LAYOUTS = ("bdd100k", "kitti")
OCCLUDED_BELOW = 0.8  # visible share of an object's unoccluded pixels under which it counts as occluded
MIN_BOX_PIXELS = 12  # fewer visible pixels: an ignore region (not a positive, not a background)
MIN_TRANSMISSION = 0.05  # fog leaves less than this of the object's light: an ignore region
# Surface mask values: 0 sky, then the renderer's materials in scene.MATERIAL_NAMES order.
SURFACE_LEGEND = {0: "sky", **{i + 1: m for i, m in enumerate(MATERIAL_NAMES)}}


@dataclass
class SynthConfig:
    """What to generate.

    ``weather``: "mixed" (drawn from the domain's mix) or one of WEATHERS; ``domain``: "default",
    "shifted" or a :class:`~polaraug.synth.domain.Domain`; ``camera``: the polarimetric camera and
    ``sensor``: bit depth, DoFP and noise (None: the domain's); ``masks``: write surface label PNGs.
    """

    n: int
    width: int = 256
    height: int = 256
    seed: int = 0
    mode: str = "paired"
    rgb_layout: str = "bdd100k"
    weather: str = "mixed"
    night_fraction: float = 0.2
    val_fraction: float = 0.2
    domain: str | Domain = "default"
    camera: Camera | None = None
    sensor: SensorConfig | None = None
    masks: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InputError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.rgb_layout not in RGB_LAYOUTS:
            raise InputError(f"rgb_layout must be one of {RGB_LAYOUTS}, got {self.rgb_layout!r}")
        if self.weather != "mixed" and self.weather not in WEATHERS:
            raise InputError(f"weather must be 'mixed' or one of {WEATHERS}, got {self.weather!r}")
        if self.n < 1 or self.width < 16 or self.height < 16:
            raise InputError("need n >= 1 and images of at least 16x16 pixels")
        if not 0 <= self.val_fraction < 1 or not 0 <= self.night_fraction <= 1:
            raise InputError("val_fraction must be in [0, 1) and night_fraction in [0, 1]")
        dom = get_domain(self.domain)
        if self.camera is None:
            self.camera = load_camera(dom.camera)
        if self.sensor is None:
            self.sensor = domain_sensor(dom, self.camera)
        if self.sensor.bits not in (8, 12, 16):
            raise InputError(f"bits must be 8, 12 or 16, got {self.sensor.bits}")

    @property
    def dom(self) -> Domain:
        """The resolved rendering domain."""
        return get_domain(self.domain)

    @property
    def domain_name(self) -> str:
        """The domain's name."""
        return self.dom.name


def domain_sensor(domain: Domain, camera: Camera, *, bits: int | None = None, dofp: bool | None = None,
                  noise: bool = True) -> SensorConfig:
    """The sensor of ``domain`` for ``camera``, with explicit overrides.

    Args:
        domain: the rendering domain (bit depth, DoFP, noise levels).
        camera: the polarimetric camera (its ``dofp_pattern`` is the mosaic when DoFP is simulated).
        bits: bit depth; None: the domain's.
        dofp: simulate the DoFP mosaic; None: the domain's.
        noise: False for a noise-free sensor (read and shot noise 0).

    Returns:
        The :class:`SensorConfig`.

    Raises:
        InputError: DoFP requested for a camera without a ``dofp_pattern``.
    """
    dofp = domain.dofp if dofp is None else dofp
    if dofp and camera.dofp_pattern is None:
        raise InputError(f"--dofp needs a camera with a dofp_pattern; '{camera.name}' has none"
                         + (f" (domain '{domain.name}' simulates a DoFP mosaic: pass --no-dofp)"
                            if domain.dofp else ""))
    return SensorConfig(read_noise=domain.read_noise if noise else 0.0,
                        shot_noise=domain.shot_noise if noise else 0.0,
                        bits=domain.bits if bits is None else bits,
                        dofp_pattern=camera.dofp_pattern if dofp else None)


@dataclass(frozen=True)
class Paths:
    out: Path
    mode: str
    rgb_layout: str

    @property
    def rgb(self) -> Path:
        return self.out / "rgb" if self.mode == "paired" else self.out

    @property
    def polar(self) -> Path:
        return self.out / "polar" if self.mode == "paired" else self.out

    @property
    def work(self) -> Path:
        return self.out / ".synth"

    def rgb_image(self, split: str, name: str) -> Path:
        if self.rgb_layout == "kitti":
            return self.rgb / "training" / "image_2" / f"{name}.png"
        return self.rgb / "images" / "100k" / split / f"{name}.jpg"

    def polar_image(self, split: str, name: str) -> Path:
        return self.polar / "images" / split / f"{name}.png"

    @property
    def masks(self) -> Path:
        """Surface masks: beside the polarimetric set's images (the RGB set's in rgb mode)."""
        return (self.rgb if self.mode == "rgb" else self.polar) / "masks"

    def mask_image(self, split: str, name: str) -> Path:
        return self.masks / split / f"{name}.png"


def frame_name(cfg: SynthConfig, index: int) -> str:
    """File stem of frame ``index``.

    Args:
        cfg: the settings (layout, seed).
        index: frame number.

    Returns:
        KITTI: "000042"; BDD100K: "synth-SEED-000042".
    """
    return f"{index:06d}" if cfg.rgb_layout == "kitti" else f"synth-{cfg.seed:04d}-{index:06d}"


def split_of(cfg: SynthConfig, index: int) -> str:
    """Deterministic, evenly spread validation frames (KITTI layout: training only).

    Args:
        cfg: the settings (layout, mode, val_fraction).
        index: frame number.

    Returns:
        "train" or "val".
    """
    if cfg.rgb_layout == "kitti" and cfg.mode != "polar":
        return "train"
    return "val" if (index * 0.6180339887) % 1.0 < cfg.val_fraction else "train"


def config_digest(cfg: SynthConfig) -> str:
    """Hash of everything that changes the frames (not ``n``: a larger n extends a run; not ``masks``:
    masks can be added to a finished run).

    Args:
        cfg: the settings.

    Returns:
        16 hex digits.
    """
    d = asdict(cfg)
    for key in ("n", "masks", "domain"):
        d.pop(key)
    if cfg.domain_name != "default":  # the default domain keeps the digests of sets made before domains
        d["domain"] = cfg.dom.to_dict()
    d["camera"] = cfg.camera.to_dict()
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def claim_output(cfg: SynthConfig, paths: Paths) -> None:
    """Refuse to resume into a folder generated with other settings; record ours otherwise.

    Args:
        cfg: the settings.
        paths: where the sets go (the stamp is ``.synth/config.json``).

    Raises:
        InputError: the folder holds frames generated with other settings.
    """
    stamp = paths.work / "config.json"
    digest = config_digest(cfg)
    if stamp.is_file():
        old = json.loads(stamp.read_text()).get("digest")
        if old != digest:
            raise InputError(f"{paths.out} holds frames generated with other settings ({stamp}); "
                             "choose a new folder or delete it")
    else:
        write_text(stamp, json.dumps({"digest": digest, "config": _settings(cfg)}, default=str, indent=2))


def _settings(cfg: SynthConfig) -> dict:
    """The settings as recorded in .synth/config.json and the manifest's provenance."""
    return {**asdict(cfg), "camera": cfg.camera.name, "domain": cfg.domain_name,
            "domain_settings": cfg.dom.to_dict()}


def _outputs_exist(cfg: SynthConfig, paths: Paths, record: dict) -> bool:
    split, name = record["split"], record["name"]
    return ((cfg.mode == "polar" or paths.rgb_image(split, name).is_file())
            and (cfg.mode == "rgb" or paths.polar_image(split, name).is_file())
            and (not cfg.masks or paths.mask_image(split, name).is_file()))


def surface_mask(material: np.ndarray) -> np.ndarray:
    """Render material buffer -> surface label image.

    Args:
        material: (H, W) int, index into scene.MATERIAL_NAMES or -1 (sky), as in ``Rendered.material``.

    Returns:
        (H, W) uint8 labels, values as in SURFACE_LEGEND (0 sky, 1 + material index).
    """
    return (np.asarray(material) + 1).astype(np.uint8)


def render_scene(cfg: SynthConfig, index: int) -> tuple[np.random.Generator, Weather, Scene, Rendered]:
    """Draw and render the scene of frame ``index`` (no sensor yet).

    Args:
        cfg: the settings (size, domain, weather mix, seed).
        index: frame number; its generator is ``default_rng([cfg.seed, index])``.

    Returns:
        (the frame's generator, positioned for the sensor's draws; the weather; the scene; the render).
    """
    rng = np.random.default_rng([cfg.seed, index])
    dom = cfg.dom
    weather = random_weather(rng, None if cfg.weather == "mixed" else cfg.weather,
                             night=bool(rng.random() < cfg.night_fraction), domain=dom)
    scene = random_scene(rng, cfg.width, cfg.height, weather, domain=dom)
    return rng, weather, scene, render(scene)


def render_frame(cfg: SynthConfig, paths: Paths, index: int) -> dict:
    """Render, capture and write frame ``index`` (and its surface mask if ``cfg.masks``).

    A frame whose record and images exist is not rendered again (resume after an interruption).

    Args:
        cfg: the settings.
        paths: where the sets go.
        index: frame number; its generator is ``default_rng([cfg.seed, index])``.

    Returns:
        The frame's label record (also kept under .synth/records/).
    """
    record_path = paths.work / "records" / f"{index:06d}.json"
    if record_path.is_file():
        record = json.loads(record_path.read_text())
        if _outputs_exist(cfg, paths, record):
            return record
    rng, weather, scene, out = render_scene(cfg, index)
    name, split = frame_name(cfg, index), split_of(cfg, index)
    # Sensor noise is drawn after the scene: a --no-noise run of the same seed renders the same scenes.
    if cfg.mode in ("rgb", "paired"):
        write_image(paths.rgb_image(split, name), capture_rgb(out.rgb, cfg.sensor, rng))
    if cfg.mode in ("polar", "paired"):
        q = capture_polar(out.stokes, cfg.camera.matrix(np.float64), cfg.sensor, rng)
        write_image(paths.polar_image(split, name), q)
    if cfg.masks:
        write_image(paths.mask_image(split, name), surface_mask(out.material))
    classes = {o.obj: o.cls for o in scene.objects}
    boxes = [{"cls": classes[oid], "box": [v.x1, v.y1, v.x2, v.y2], "occluded": v.visible < OCCLUDED_BELOW,
              "truncated": v.truncated, "ignore": v.pixels < MIN_BOX_PIXELS
              or math.exp(-weather.fog_density * v.depth) < MIN_TRANSMISSION}
             for oid, v in sorted(out.boxes.items())]
    record = {"index": index, "name": name, "split": split, "weather": weather.name,
              "timeofday": "night" if weather.night else "daytime", "wet_road": weather.wet_road, "boxes": boxes}
    write_text(record_path, json.dumps(record))
    return record


def _frame_of(record: dict, image: Path, cfg: SynthConfig) -> Frame:
    boxes = [Box(*b["box"], b["cls"], ignore=b["ignore"], occluded=b["occluded"], truncated=b["truncated"])
             for b in record["boxes"]]
    return Frame(image.name, image, boxes, cfg.width, cfg.height, record["split"], record["weather"],
                 record["timeofday"], "city street")


_WORKER: tuple[SynthConfig, Paths] | None = None


def _init_worker(cfg: SynthConfig, paths: Paths) -> None:
    global _WORKER
    _WORKER = (cfg, paths)


def _work(index: int) -> dict:
    assert _WORKER is not None
    return render_frame(*_WORKER, index)


def iter_records(cfg: SynthConfig, paths: Paths, workers: int) -> Iterator[dict]:
    """Records of all frames, rendered in ``workers`` processes.

    Args:
        cfg: the settings.
        paths: where the sets go.
        workers: processes (<= 1: in this process).

    Yields:
        Each frame's label record, in order of completion.
    """
    if workers <= 1:
        for i in range(cfg.n):
            yield render_frame(cfg, paths, i)
        return
    with process_pool(workers, _init_worker, (cfg, paths)) as pool:
        yield from pool.imap_unordered(_work, range(cfg.n), chunksize=4)


def generate(cfg: SynthConfig, out: str | Path, workers: int | None = None, progress: bool = True) -> dict:
    """Generate ``cfg.n`` frames into ``out``.

    Args:
        cfg: the settings.
        out: output folder (paired mode: ``out/rgb`` and ``out/polar``).
        workers: worker processes (None: one per core, at most 8).
        progress: show a progress bar.

    Returns:
        Summary: frames per split, boxes per class, frames per weather, wet-road frames, the domain, ``out``.
    """
    from tqdm import tqdm

    paths = Paths(Path(out), cfg.mode, cfg.rgb_layout)
    with output_lock(paths.out, "polaraug synth"):
        remove_stale_temporaries(paths.out)  # a killed run's: the lock says no other process writes here
        claim_output(cfg, paths)
        workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
        try:
            records = sorted(tqdm(iter_records(cfg, paths, workers), total=cfg.n, disable=not progress,
                                  unit="frame", desc="synth"), key=lambda r: r["index"])
        except BaseException:  # a failed write stops the pool, killing workers mid-write: remove their temporaries
            with contextlib.suppress(OSError):  # a read-only folder: the first error is the one to report
                remove_stale_temporaries(paths.out)
            raise
        return _write_sets(cfg, paths, records)


def _write_sets(cfg: SynthConfig, paths: Paths, records: list[dict]) -> dict:
    """Labels (BDD100K or KITTI), the masks legend, the polarimetric manifest and the summary of a
    rendered set from its frames' records; returns the summary (see :func:`generate`)."""
    splits = sorted({r["split"] for r in records})
    if cfg.mode in ("rgb", "paired"):
        for split in splits:
            frames = [_frame_of(r, paths.rgb_image(split, r["name"]), cfg) for r in records if r["split"] == split]
            if cfg.rgb_layout == "kitti":
                write_kitti_labels(frames, paths.rgb / "training" / "label_2")
            else:
                write_bdd100k_labels(frames, paths.rgb / "labels" / "det_20" / f"det_{split}.json")
    legend = {str(k): v for k, v in SURFACE_LEGEND.items()}
    if cfg.masks:
        write_text(paths.masks / "masks.json", json.dumps(
            {"values": legend, "dtype": "uint8", "layout": "masks/{split}/NAME.png",
             "note": "per-pixel surface of the rendered scene; 0 = sky, else 1 + material index"},
            indent=2) + "\n")
    if cfg.mode in ("polar", "paired"):
        extra = {"synth": _settings(cfg)}
        if cfg.masks:
            extra["masks"] = {"dir": "masks", "values": legend}
        writer = PolarSetWriter(paths.polar, cfg.camera, bits=cfg.sensor.bits, created_by="polaraug synth",
                                extra=extra)
        for r in records:
            writer.register(_frame_of(r, paths.polar_image(r["split"], r["name"]), cfg))
        writer.close()
    counts: dict[str, int] = {}
    for r in records:
        for b in r["boxes"]:
            counts[b["cls"]] = counts.get(b["cls"], 0) + 1
    summary = {"frames": {s: sum(r["split"] == s for r in records) for s in splits}, "boxes": counts,
               "weather": {w: sum(r["weather"] == w for r in records) for w in WEATHERS},
               "wet_road": sum(bool(r.get("wet_road", r["weather"] == "rainy")) for r in records),
               "domain": cfg.domain_name, "out": str(paths.out)}
    write_text(paths.work / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary
