"""Dataset translation (``polaraug translate``): a whole RGB dataset -> a polarimetric set in polaraug's
layout, labels carried.

- Source layouts: BDD100K (images/100k + labels), KITTI (training/image_2 + label_2), or a plain folder
  of images (no labels); ``fmt`` overrides the detection.
- Full resolution: reflect padding to the network's multiple and crop back; never a resize.
- Frames are decoded by a thread pool while the model runs, then encoded and written atomically by
  another; consecutive frames of equal size are batched.
- Resumable: a frame whose image already exists is not translated again (its record is kept in
  ``.translate/``); labels, the YOLO export and the manifest are written at the end from all records.
- ``shard=(i, n)`` takes frames i, i+n, i+2n, ...; each shard writes its own records, and a merge
  (:func:`merge_outputs`) assembles labels and manifest from all of them.
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

from polaraug.cameras import Camera, camera_from_dict, load_camera
from polaraug.data.errors import SkipReport
from polaraug.data.export import export_yolo, write_kitti_labels
from polaraug.data.frame import Box, Frame
from polaraug.data.polarset import PolarSetWriter
from polaraug.data.sources import detect_format, source_frames
from polaraug.engine import pick_device
from polaraug.engine.distributed import barrier, gather_objects, setup_distributed, teardown
from polaraug.errors import InputError
from polaraug.io.atomic import write_text
from polaraug.io.images import ImageReadError, read_image, write_image
from polaraug.physics import repair_intensities
from polaraug.physics.quantize import quantize_admissible

from .checkpoint import load_translator
from .infer import rgb_to_tensor, translate_batch
from .model import Translator


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


def quantize_output(y: np.ndarray, a: np.ndarray, *, project: bool, bits: int) -> np.ndarray:
    """The stored form of translated intensities.

    Args:
        y: (H, W, 4) float intensities (a Stokes head's may exceed 1).
        a: (4, 3) float64 camera matrix.
        project: repair and quantise admissibly (pixels past the range are scaled, never clipped);
            otherwise round and clip each channel.
        bits: 8 or 16.

    Returns:
        (H, W, 4) uint8 or uint16.
    """
    if project:
        return quantize_admissible(repair_intensities(y, a), a, bits)
    top = 2**bits - 1
    return np.clip(np.round(y * top), 0, top).astype(np.uint16 if bits > 8 else np.uint8)


@dataclass(frozen=True)
class _Job:
    """What every frame of one translation shares."""

    out: Path
    model: Translator
    a: np.ndarray  # (4, 3) float64 camera matrix
    project: bool
    bits: int
    records: Path

    def image_path(self, frame: Frame) -> Path:
        return self.out / "images" / frame.split / f"{frame.flat_stem}.png"

    def done(self, frame: Frame) -> bool:
        return self.image_path(frame).is_file() and (self.records / f"{frame.flat_stem}.json").is_file()

    def decode(self, frame: Frame) -> tuple[Frame, np.ndarray | Exception]:
        """The frame's RGB image (H, W, 3), or the error that makes it unreadable."""
        try:
            img = read_image(frame.image)
            if img.ndim != 3 or img.shape[2] != 3:
                raise ImageReadError(f"{frame.image}: expected an RGB image, got shape {img.shape}")
            return frame, img
        except (ImageReadError, OSError) as e:
            return frame, e

    def encode(self, frame: Frame, y: np.ndarray) -> None:
        """Quantise and write intensities (H, W, 4) in [0, 1], then the record."""
        write_image(self.image_path(frame), quantize_output(y, self.a, project=self.project, bits=self.bits))
        write_text(self.records / f"{frame.flat_stem}.json", json.dumps(_record(frame, y.shape[1], y.shape[0], "ok")))


def _translate_frames(job: _Job, todo: list[Frame], *, batch: int, workers: int, progress: bool,
                      summary: TranslateSummary) -> None:
    """Decode in threads, translate consecutive frames of equal size in batches, encode in threads."""
    from tqdm import tqdm

    dev = next(job.model.parameters()).device
    bar = tqdm(total=len(todo), disable=not progress, unit="frame", desc="translate")
    with ThreadPoolExecutor(workers) as readers, ThreadPoolExecutor(workers) as writers:
        pending = []
        group: list[tuple[Frame, np.ndarray]] = []

        def flush() -> None:
            if not group:
                return
            x = torch.cat([rgb_to_tensor(img) for _, img in group]).to(dev)
            y = translate_batch(job.model, x).permute(0, 2, 3, 1).cpu().numpy()
            pending.extend(writers.submit(job.encode, frame, yi) for (frame, _), yi in zip(group, y, strict=True))
            group.clear()

        for frame, img in readers.map(job.decode, todo):
            bar.update(1)
            if isinstance(img, Exception):
                summary.unreadable.append(str(img))
                continue
            if group and (group[0][1].shape != img.shape or len(group) >= batch):
                flush()
            group.append((frame, img))
        flush()
        for p in pending:
            p.result()  # surface write errors
            summary.written += 1
    bar.close()


def translate_dataset(src: str | Path, out: str | Path, model: Translator, checkpoint: str | Path,
                      camera: Camera, *, fmt: str = "auto", project: bool = False, batch: int = 4, bits: int = 16,
                      shard: tuple[int, int] = (0, 1), workers: int = 4, progress: bool = True,
                      merge: bool = True) -> TranslateSummary:
    """Translate every frame of ``src`` into ``out`` (see the module docstring).

    Args:
        src: BDD100K root, KITTI root or a folder of images.
        out: the polarimetric set to write (resumed when it holds finished frames).
        model: the translator, on its device.
        checkpoint: the checkpoint file the model came from (hashed into the manifest).
        camera: the translator's polarimetric camera.
        fmt: source layout, or "auto".
        project: project every output onto the admissible set (always on for 'project' checkpoints).
        batch: frames per forward pass; bits: PNG depth (8 or 16).
        shard: (i, n): translate frames i, i+n, ...
        workers: decode/encode threads; progress: show a progress bar.
        merge: write labels, YOLO export and manifest at the end (off for all shards but the last).

    Returns:
        Counts of written, already present and unreadable frames.
    """
    src, out = Path(src), Path(out)
    idx, n_shards = shard
    if not 0 <= idx < n_shards:
        raise InputError(f"shard must be i/n with 0 <= i < n, got {idx}/{n_shards}")
    job = _Job(out, model, camera.matrix(np.float64), project or model.admissible, bits,
               out / ".translate" / "records")
    skip = SkipReport()
    summary = TranslateSummary(out=str(out))
    frames = [f for i, f in enumerate(source_frames(src, fmt, skip)) if i % n_shards == idx]
    todo = [f for f in frames if not job.done(f)]
    summary.skipped_existing = len(frames) - len(todo)
    _translate_frames(job, todo, batch=batch, workers=workers, progress=progress, summary=summary)
    summary.unreadable += skip.skipped
    if merge:
        merge_outputs(out, camera, model, checkpoint, project=job.project, bits=bits, summary=summary,
                      source_format=source_format(src, fmt))
    return summary


def source_format(src: str | Path, fmt: str) -> str:
    """The source layout: ``fmt`` unless it is "auto", else the detected one."""
    return detect_format(Path(src)) if fmt == "auto" else fmt


def run_translation(src: str | Path, out: str | Path, *, checkpoint: str | Path, fmt: str = "auto",
                    project: bool = False, batch: int = 4, bits: int = 16, shard: tuple[int, int] = (0, 1),
                    device: str | None = None, workers: int = 4, compile_model: bool = False,
                    calibration: str | None = None, progress: bool = True) -> TranslateSummary | None:
    """``polaraug translate``: load the checkpoint, translate this process's shard, merge.

    Under torchrun (WORLD_SIZE > 1) each rank takes the shard of its rank and rank 0 merges once every
    rank is done. Arguments as :func:`translate_dataset`; ``compile_model`` wraps the generator in
    torch.compile; ``calibration`` (a camera file or built-in name) translates for another camera than
    the checkpoint's (Stokes-head checkpoints).

    Returns:
        The summary on the process that reports (rank 0, or the only one); None on other ranks.
    """
    if bits not in (8, 16):
        raise InputError(f"--bits must be 8 or 16, got {bits}")
    ctx = setup_distributed(pick_device(device))  # first: under torchrun each rank picks its own GPU
    model, camera = load_for_translation(checkpoint, str(ctx.device),
                                         load_camera(calibration) if calibration else None)
    if compile_model:
        model.g = torch.compile(model.g)
    if ctx.world > 1:  # torchrun: one shard per rank, rank 0 merges after everyone is done
        shard = (ctx.rank, ctx.world)
    summary = translate_dataset(src, out, model, checkpoint, camera, fmt=fmt, project=project, batch=batch,
                                bits=bits, shard=shard, workers=workers, progress=progress and ctx.main,
                                merge=ctx.world == 1)
    if ctx.world > 1:
        every = gather_objects(summary, ctx)  # every rank's counts and unreadable frames, for the manifest
        summary = TranslateSummary(sum(s.written for s in every), sum(s.skipped_existing for s in every),
                                   [u for s in every for u in s.unreadable], summary.out)
        barrier()
        if ctx.main:
            merge_outputs(Path(out), camera, model, checkpoint, project=project or model.admissible, bits=bits,
                          summary=summary, source_format=source_format(src, fmt))
        teardown(ctx)
    return summary if ctx.main else None


def merge_outputs(out: Path, camera: Camera, model: Translator, checkpoint: str | Path, *, project: bool,
                  bits: int, summary: TranslateSummary, source_format: str = "bdd100k") -> Path:
    """Labels (BDD100K det_20 per split, YOLO export), and the manifest, from every shard's records."""
    records = [json.loads(p.read_text()) for p in sorted((out / ".translate" / "records").glob("*.json"))]
    writer = PolarSetWriter(out, camera, bits=bits, created_by="polaraug translate", extra={
        "checkpoint": str(checkpoint), "checkpoint_sha256": file_sha256(Path(checkpoint)),
        "constraint_mode": model.cfg.mode, "head": model.cfg.head, "projected": project,
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


def load_for_translation(checkpoint: str | Path, device: str | None = None,
                         camera: Camera | None = None) -> tuple[Translator, Camera]:
    """The translator (eval mode) and the camera it translates for.

    Args:
        checkpoint: a translator checkpoint.
        device: torch device name (default: CUDA when present).
        camera: translate for this camera instead of the checkpoint's. A Stokes-head translator predicts
            Stokes vectors, so y = A' s is exact for any camera A'; an intensities-head one cannot be
            re-targeted (InputError).

    Returns:
        (the translator, the camera of its outputs). Raises CheckpointError before any work if the
        checkpoint is unusable.
    """
    from polaraug.physics import decompose_camera_matrix

    model, state = load_translator(checkpoint, device=pick_device(device))
    if camera is not None:
        if model.cfg.head != "stokes":
            raise InputError(f"{checkpoint}: an intensities-head translator outputs its own camera's intensities; "
                             "--calibration needs a Stokes-head checkpoint (train --head stokes)")
        model.set_camera(torch.as_tensor(camera.matrix(), dtype=torch.float32))
        return model, camera
    angles, gains, ers = decompose_camera_matrix(state["calibration"].double().numpy())
    camera = camera_from_dict({"name": state.get("camera") or "from-checkpoint", "angles_deg": angles.tolist(),
                               "gains": gains.tolist(), "extinction_ratios": ers.tolist()}, str(checkpoint))
    return model, camera
