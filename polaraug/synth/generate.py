"""``polaraug synth``: render labelled road scenes into an RGB set, a polarimetric set, or paired sets.

Frame i of seed s is drawn from its own generator ``default_rng([s, i])``: output is deterministic, frames
render in parallel worker processes, and a rerun skips frames already written (each frame's labels are
kept under ``.synth/`` until the label files are assembled). All writes are atomic.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from polaraug.cameras import Camera
from polaraug.data.export import write_bdd100k_labels, write_kitti_labels
from polaraug.data.frame import Box, Frame
from polaraug.data.polarset import PolarSetWriter
from polaraug.io.atomic import write_text
from polaraug.io.images import write_image
from polaraug.parallel import process_pool

from .render import render
from .scene import WEATHERS, random_scene, random_weather
from .sensor import SensorConfig, capture_polar, capture_rgb

MODES = ("rgb", "polar", "paired")
RGB_LAYOUTS = ("bdd100k", "kitti")
OCCLUDED_BELOW = 0.8  # visible share of an object's unoccluded pixels under which it counts as occluded
MIN_BOX_PIXELS = 12  # fewer visible pixels: an ignore region (not a positive, not a background)
MIN_TRANSMISSION = 0.05  # fog leaves less than this of the object's light: an ignore region


@dataclass
class SynthConfig:
    """What to generate. ``weather``: "mixed" or one of WEATHERS; ``camera``: the polarimetric camera."""

    n: int
    width: int = 256
    height: int = 256
    seed: int = 0
    mode: str = "paired"
    rgb_layout: str = "bdd100k"
    weather: str = "mixed"
    night_fraction: float = 0.2
    val_fraction: float = 0.2
    camera: Camera = field(default_factory=lambda: Camera(name="ideal"))
    sensor: SensorConfig = field(default_factory=SensorConfig)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.rgb_layout not in RGB_LAYOUTS:
            raise ValueError(f"rgb_layout must be one of {RGB_LAYOUTS}, got {self.rgb_layout!r}")
        if self.weather != "mixed" and self.weather not in WEATHERS:
            raise ValueError(f"weather must be 'mixed' or one of {WEATHERS}, got {self.weather!r}")
        if self.n < 1 or self.width < 16 or self.height < 16:
            raise ValueError("need n >= 1 and images of at least 16x16 pixels")
        if not 0 <= self.val_fraction < 1 or not 0 <= self.night_fraction <= 1:
            raise ValueError("val_fraction must be in [0, 1) and night_fraction in [0, 1]")
        if self.sensor.bits not in (8, 12, 16):
            raise ValueError(f"bits must be 8, 12 or 16, got {self.sensor.bits}")


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


def frame_name(cfg: SynthConfig, index: int) -> str:
    return f"{index:06d}" if cfg.rgb_layout == "kitti" else f"synth-{cfg.seed:04d}-{index:06d}"


def split_of(cfg: SynthConfig, index: int) -> str:
    """Deterministic, evenly spread validation frames (KITTI layout: training only)."""
    if cfg.rgb_layout == "kitti" and cfg.mode != "polar":
        return "train"
    return "val" if (index * 0.6180339887) % 1.0 < cfg.val_fraction else "train"


def config_digest(cfg: SynthConfig) -> str:
    """Hash of everything that changes the frames (not ``n``: a larger n extends a run)."""
    d = asdict(cfg)
    d.pop("n")
    d["camera"] = cfg.camera.to_dict()
    return hashlib.sha256(json.dumps(d, sort_keys=True, default=str).encode()).hexdigest()[:16]


def claim_output(cfg: SynthConfig, paths: Paths) -> None:
    """Refuse to resume into a folder generated with other settings; record ours otherwise."""
    stamp = paths.work / "config.json"
    digest = config_digest(cfg)
    if stamp.is_file():
        old = json.loads(stamp.read_text()).get("digest")
        if old != digest:
            raise ValueError(f"{paths.out} holds frames generated with other settings ({stamp}); "
                             "choose a new folder or delete it")
    else:
        write_text(stamp, json.dumps({"digest": digest, "config": {**asdict(cfg), "camera": cfg.camera.name}},
                                     default=str, indent=2))


def _outputs_exist(cfg: SynthConfig, paths: Paths, record: dict) -> bool:
    split, name = record["split"], record["name"]
    return ((cfg.mode == "polar" or paths.rgb_image(split, name).is_file())
            and (cfg.mode == "rgb" or paths.polar_image(split, name).is_file()))


def render_frame(cfg: SynthConfig, paths: Paths, index: int) -> dict:
    """Render, capture and write frame ``index``; returns its label record (also kept under .synth/).

    A frame whose record and images exist is not rendered again (resume after an interruption)."""
    record_path = paths.work / "records" / f"{index:06d}.json"
    if record_path.is_file():
        record = json.loads(record_path.read_text())
        if _outputs_exist(cfg, paths, record):
            return record
    rng = np.random.default_rng([cfg.seed, index])
    weather = random_weather(rng, None if cfg.weather == "mixed" else cfg.weather,
                             night=bool(rng.random() < cfg.night_fraction))
    scene = random_scene(rng, cfg.width, cfg.height, weather)
    out = render(scene)
    name, split = frame_name(cfg, index), split_of(cfg, index)
    if cfg.mode in ("rgb", "paired"):
        write_image(paths.rgb_image(split, name), capture_rgb(out.rgb, cfg.sensor, rng))
    if cfg.mode in ("polar", "paired"):
        q = capture_polar(out.stokes, cfg.camera.matrix(np.float64), cfg.sensor, rng)
        write_image(paths.polar_image(split, name), q)
    classes = {o.obj: o.cls for o in scene.objects}
    boxes = [{"cls": classes[oid], "box": [v.x1, v.y1, v.x2, v.y2], "occluded": v.visible < OCCLUDED_BELOW,
              "truncated": v.truncated, "ignore": v.pixels < MIN_BOX_PIXELS
              or math.exp(-weather.fog_density * v.depth) < MIN_TRANSMISSION}
             for oid, v in sorted(out.boxes.items())]
    record = {"index": index, "name": name, "split": split, "weather": weather.name,
              "timeofday": "night" if weather.night else "daytime", "boxes": boxes}
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
    """Records of all frames, rendered in ``workers`` processes (in order of completion)."""
    if workers <= 1:
        for i in range(cfg.n):
            yield render_frame(cfg, paths, i)
        return
    with process_pool(workers, _init_worker, (cfg, paths)) as pool:
        yield from pool.imap_unordered(_work, range(cfg.n), chunksize=4)


def generate(cfg: SynthConfig, out: str | Path, workers: int | None = None, progress: bool = True) -> dict:
    """Generate ``cfg.n`` frames into ``out``; returns a summary (frames per split, boxes per class)."""
    from tqdm import tqdm

    paths = Paths(Path(out), cfg.mode, cfg.rgb_layout)
    claim_output(cfg, paths)
    workers = workers if workers is not None else min(os.cpu_count() or 1, 8)
    records = sorted(tqdm(iter_records(cfg, paths, workers), total=cfg.n, disable=not progress, unit="frame",
                          desc="synth"), key=lambda r: r["index"])
    splits = sorted({r["split"] for r in records})
    if cfg.mode in ("rgb", "paired"):
        for split in splits:
            frames = [_frame_of(r, paths.rgb_image(split, r["name"]), cfg) for r in records if r["split"] == split]
            if cfg.rgb_layout == "kitti":
                write_kitti_labels(frames, paths.rgb / "training" / "label_2")
            else:
                write_bdd100k_labels(frames, paths.rgb / "labels" / "det_20" / f"det_{split}.json")
    if cfg.mode in ("polar", "paired"):
        writer = PolarSetWriter(paths.polar, cfg.camera, bits=cfg.sensor.bits, created_by="polaraug synth",
                                extra={"synth": {**asdict(cfg), "camera": cfg.camera.name}})
        for r in records:
            writer.register(_frame_of(r, paths.polar_image(r["split"], r["name"]), cfg))
        writer.close()
    counts: dict[str, int] = {}
    for r in records:
        for b in r["boxes"]:
            counts[b["cls"]] = counts.get(b["cls"], 0) + 1
    summary = {"frames": {s: sum(r["split"] == s for r in records) for s in splits}, "boxes": counts,
               "out": str(paths.out)}
    write_text(paths.work / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary
