"""``polaraug translate``: a whole RGB dataset -> a polarimetric set in polaraug's layout, labels carried.

- Source layouts: BDD100K (images/100k + labels), KITTI (training/image_2 + label_2), or a plain folder
  of images (no labels); ``fmt`` overrides the detection.
- Full resolution: reflect padding to the network's multiple and crop back; never a resize.
- Frames are decoded by a thread pool while the model runs, then encoded and written atomically by
  another; consecutive frames of equal size are batched.
- Resumable: a frame whose image already exists is not translated again (its record is kept in
  ``.translate/``); labels, the YOLO export and the manifest are written at the end from all records.
- ``shard=(i, n)`` takes frames i, i+n, i+2n, ...; each shard writes its own records, the last merge
  (``merge_only``) assembles labels and manifest.
- Unreadable frames are reported and skipped; the run goes on and the summary counts them.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import Camera, camera_from_dict
from polaraug.data.errors import SkipReport
from polaraug.data.export import export_yolo, write_kitti_labels
from polaraug.data.frame import Box, Frame
from polaraug.data.polarset import PolarSetWriter
from polaraug.data.sources import detect_format, source_frames
from polaraug.io.atomic import write_text
from polaraug.io.images import ImageReadError, read_image, write_image
from polaraug.physics import repair_intensities
from polaraug.physics.quantize import quantize_admissible

from .infer import rgb_to_tensor, translate_batch
from .model import ConstrainedCycleGAN


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class TranslateSummary:
    written: int = 0
    skipped_existing: int = 0
    unreadable: list[str] = field(default_factory=list)
    out: str = ""


def _record(frame: Frame, width: int, height: int, status: str) -> dict:
    return {"name": frame.name, "stem": frame.flat_stem, "split": frame.split, "width": width, "height": height,
            "weather": frame.weather, "timeofday": frame.timeofday, "scene": frame.scene, "status": status,
            "boxes": [[b.x1, b.y1, b.x2, b.y2, b.cls, b.ignore, b.occluded, b.truncated] for b in frame.boxes]}


def translate_dataset(src: str | Path, out: str | Path, model: ConstrainedCycleGAN, checkpoint: str | Path,
                      camera: Camera, fmt: str = "auto", project: bool = False, batch: int = 4, bits: int = 16,
                      shard: tuple[int, int] = (0, 1), workers: int = 4, progress: bool = True,
                      merge: bool = True) -> TranslateSummary:
    """Translate every frame of ``src`` into ``out`` (see the module docstring)."""
    from tqdm import tqdm

    src, out = Path(src), Path(out)
    idx, n_shards = shard
    if not 0 <= idx < n_shards:
        raise ValueError(f"shard must be i/n with 0 <= i < n, got {idx}/{n_shards}")
    project = project or model.cfg.mode == "project"
    a = camera.matrix(np.float64)
    dev = next(model.parameters()).device
    records_dir = out / ".translate" / "records"
    skip = SkipReport()
    summary = TranslateSummary(out=str(out))
    frames = [f for i, f in enumerate(source_frames(src, fmt, skip)) if i % n_shards == idx]

    def image_path(frame: Frame) -> Path:
        return out / "images" / frame.split / f"{frame.flat_stem}.png"

    todo = []
    for f in frames:
        if image_path(f).is_file() and (records_dir / f"{f.flat_stem}.json").is_file():
            summary.skipped_existing += 1
        else:
            todo.append(f)

    def decode(frame: Frame):
        try:
            img = read_image(frame.image)
            if img.ndim != 3 or img.shape[2] != 3:
                raise ImageReadError(f"{frame.image}: expected an RGB image, got shape {img.shape}")
            return frame, img
        except (ImageReadError, ValueError, OSError) as e:
            return frame, e

    def encode(frame: Frame, y: np.ndarray) -> None:
        if project:
            q = quantize_admissible(repair_intensities(y, a), a, bits)
        else:
            top = 2**bits - 1
            q = np.clip(np.round(y * top), 0, top).astype(np.uint16 if bits > 8 else np.uint8)
        write_image(image_path(frame), q)
        write_text(records_dir / f"{frame.flat_stem}.json", json.dumps(_record(frame, y.shape[1], y.shape[0], "ok")))

    bar = tqdm(total=len(todo), disable=not progress, unit="frame", desc="translate")
    with ThreadPoolExecutor(workers) as readers, ThreadPoolExecutor(workers) as writers:
        pending = []
        group: list[tuple[Frame, np.ndarray]] = []

        def flush() -> None:
            if not group:
                return
            x = torch.cat([rgb_to_tensor(img) for _, img in group]).to(dev)
            y = translate_batch(model, x).permute(0, 2, 3, 1).cpu().numpy()
            for (frame, _), yi in zip(group, y, strict=True):
                pending.append(writers.submit(encode, frame, yi))
            group.clear()

        for frame, img in readers.map(decode, todo):
            if isinstance(img, Exception):
                summary.unreadable.append(str(img))
                bar.update(1)
                continue
            if group and (group[0][1].shape != img.shape or len(group) >= batch):
                flush()
            group.append((frame, img))
            bar.update(1)
        flush()
        for p in pending:
            p.result()  # surface write errors
            summary.written += 1
    bar.close()
    summary.unreadable += skip.skipped
    if merge:
        merge_outputs(out, camera, model, checkpoint, project, bits, summary,
                      detect_format(src) if fmt == "auto" else fmt)
    return summary


def merge_outputs(out: Path, camera: Camera, model: ConstrainedCycleGAN, checkpoint: str | Path, project: bool,
                  bits: int, summary: TranslateSummary, source_format: str = "bdd100k") -> Path:
    """Labels (BDD100K det_20 per split, YOLO export), and the manifest, from every shard's records."""
    records = [json.loads(p.read_text()) for p in sorted((out / ".translate" / "records").glob("*.json"))]
    writer = PolarSetWriter(out, camera, bits=bits, created_by="polaraug translate", extra={
        "checkpoint": str(checkpoint), "checkpoint_sha256": file_sha256(Path(checkpoint)),
        "constraint_mode": model.cfg.mode, "projected": project,
        "frames": {r["stem"]: r["status"] for r in records}, "unreadable": summary.unreadable})
    splits: dict[str, list[Frame]] = {}
    for r in records:
        boxes = [Box(x1, y1, x2, y2, cls, ignore=ig, occluded=oc, truncated=tr)
                 for x1, y1, x2, y2, cls, ig, oc, tr in r["boxes"]]
        frame = Frame(f"{r['stem']}.png", out / "images" / r["split"] / f"{r['stem']}.png", boxes, r["width"],
                      r["height"], r["split"], r["weather"], r["timeofday"], r["scene"])
        writer.register(frame)
        splits.setdefault(r["split"], []).append(frame)
    path = writer.close()
    export_yolo(splits, out / "yolo", channels=4)
    if source_format == "kitti":  # labels also in the source's own format
        for split, frames in splits.items():
            write_kitti_labels(frames, out / "labels" / f"kitti_{split}")
    return path


def load_for_translation(checkpoint: str | Path, device: str | None = None) -> tuple[ConstrainedCycleGAN, Camera]:
    """The model and camera of a checkpoint; raises CheckpointError before any work if it is unusable."""
    from polaraug.physics import decompose_camera_matrix

    from .checkpoint import load_checkpoint
    from .train import pick_device

    model, state = load_checkpoint(checkpoint, device=pick_device(device))
    model.eval()
    angles, gains, ers = decompose_camera_matrix(state["calibration"].double().numpy())
    camera = camera_from_dict({"name": state.get("camera") or "from-checkpoint", "angles_deg": angles.tolist(),
                               "gains": gains.tolist(), "extinction_ratios": ers.tolist()}, str(checkpoint))
    return model, camera
