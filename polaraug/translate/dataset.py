"""Dataset translation (``polaraug translate``): a whole RGB dataset -> a polarimetric set in polaraug's
layout, labels carried.

- Source layouts: BDD100K (images/100k + labels), KITTI (training/image_2 + label_2), COCO
  (instances*.json), YOLO (data.yaml + labels/), or a plain folder of images (no labels); ``fmt`` overrides
  the detection; a class map renames the source's classes.
- Full resolution: reflect padding to the network's multiple and crop back; never a resize.
- Frames are decoded by a thread pool while the model runs, then encoded and written atomically by
  another; consecutive frames of equal size are batched.
- Resumable: a frame whose image already exists is not translated again (its record is kept in
  ``.translate/``); labels, the YOLO export and the manifest are written at the end from all records.
  The run's settings (checkpoint hash, camera, projection, bit depth, batch, source, backend) are recorded in
  ``.translate/settings.json`` and a resume with other settings is refused, so one set never mixes two
  models. Batches are fixed by the frame list (consecutive frames of equal size, ``batch`` at a time), and a
  resumed batch is recomputed whole: an interrupted and resumed run writes the same bytes as an
  uninterrupted one (batched kernels may round differently from single-frame ones).
- ``shard=(i, n)`` takes batches i, i+n, i+2n, ... of the whole frame list, so a sharded run computes every
  batch exactly as a single process does; each shard writes its own records, and a merge
  (:func:`merge_outputs`) assembles labels and manifest from all of them.
- Unreadable frames are reported and skipped; the run goes on and the summary counts them.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import Camera, camera_from_dict, load_camera
from polaraug.data.classmap import ClassMap
from polaraug.data.errors import SkipReport
from polaraug.data.export import export_yolo, write_kitti_labels
from polaraug.data.frame import Box, Frame
from polaraug.data.polarset import PolarSetWriter
from polaraug.data.select import WITH_ATTRIBUTES, Selection
from polaraug.data.sources import detect_format, source_frames
from polaraug.engine import pick_device
from polaraug.engine.distributed import barrier, gather_objects, setup_distributed, teardown
from polaraug.errors import InputError
from polaraug.io.atomic import remove_stale_temporaries, write_text
from polaraug.io.images import ImageReadError, image_size, read_image, write_image
from polaraug.io.lock import output_lock
from polaraug.physics import repair_intensities
from polaraug.physics.quantize import quantize_admissible
from polaraug.physics.sensor import SensorModel, capture

from .backends import backend_name, resolve_backend, use_backend
from .builtin import resolve_checkpoint, translator_name
from .checkpoint import load_translator
from .infer import NO_AVERAGING, Averaging, rgb_to_tensor, translate_batch
from .model import Translator
from .precision import check_bits, frame_bytes, output_bits


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
    dropped_boxes: dict[str, int] = field(default_factory=dict)  # labels left out of kept frames, by reason
    selection: dict = field(default_factory=dict)  # --where/--limit: the filter, and frames selected of how many
    sensor: dict = field(default_factory=dict)  # the sensor the frames were written through (empty: none)
    backend: str = ""  # where the generator ran: torch or onnxruntime
    averaging: Averaging = NO_AVERAGING  # test-time averaging of the generator's outputs


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
        bits: 8, 10, 12 or 16.

    Returns:
        (H, W, 4) uint8, or uint16 holding values 0 .. 2**bits - 1.
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
    sensor: SensorModel | None = None  # the target camera's read-out, applied after the generator
    sensor_seed: int = 0
    averaging: Averaging = NO_AVERAGING  # test-time averaging of each forward

    def sensor_rng(self, frame: Frame) -> np.random.Generator:
        """The frame's own noise stream: a rerun or a resume writes the same bytes, whatever the batch."""
        return np.random.default_rng([self.sensor_seed, zlib.crc32(f"{frame.split}/{frame.flat_stem}".encode())])

    def image_path(self, frame: Frame) -> Path:
        return self.out / "images" / frame.split / f"{frame.flat_stem}.png"

    def record_path(self, frame: Frame) -> Path:
        # by split too: KITTI's training/ and testing/ (and YOLO's train/val lists) share file names
        return self.records / frame.split / f"{frame.flat_stem}.json"

    def done(self, frame: Frame) -> bool:
        return self.image_path(frame).is_file() and self.record_path(frame).is_file()

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
        """Quantise and write intensities (H, W, 4) in [0, 1] (through the sensor first, if any), then the
        record."""
        if self.sensor is not None:
            y = capture(y, self.sensor, self.sensor_rng(frame))
        write_image(self.image_path(frame), quantize_output(y, self.a, project=self.project, bits=self.bits),
                    bits=self.bits)  # the file's sBIT says the depth
        write_text(self.record_path(frame), json.dumps(_record(frame, y.shape[1], y.shape[0], "ok")))


def frame_sizes(frames: list[Frame]) -> list[tuple[int, int] | None]:
    """(width, height) of each frame from its image header, None where the header cannot be read."""
    sizes: list[tuple[int, int] | None] = []
    for frame in frames:
        try:
            sizes.append(image_size(frame.image))
        except ImageReadError:
            sizes.append(None)
    return sizes


def disk_estimate(sizes: list[tuple[int, int] | None], bits: int) -> int:
    """Bytes the translations of frames of these sizes take at ``bits``: the measured PNG size per pixel
    (:func:`polaraug.translate.precision.frame_bytes`)."""
    return sum(frame_bytes(w, h, bits) for w, h in (s for s in sizes if s is not None))


def check_space(out: Path, need: int, frames: int) -> None:
    """Refuse to start when the file system of ``out`` has less free space than ``need`` bytes.

    Raises:
        InputError: not enough space (the message says how much is needed and free).
    """
    import shutil

    probe = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    free = shutil.disk_usage(probe).free
    if need > free:
        raise InputError(f"{out}: the {frames} frames to translate need about {need / 1e9:.1f} GB and the disk has "
                         f"{free / 1e9:.1f} GB free; free space, write elsewhere, use --bits 8, or --no-space-check")


def batches(frames: list[Frame], batch: int, sizes: list | None = None) -> list[list[Frame]]:
    """Frames in fixed batches: consecutive frames of equal size (from the image header), ``batch`` at a
    time; a frame whose header cannot be read is a batch of its own (its decoding will report it).

    Args:
        frames: the frames to translate, in order.
        batch: the largest batch.
        sizes: each frame's (width, height) (None: read from the headers).

    Returns:
        The batches, in order. They depend only on ``frames`` and ``batch``, never on what is already done.
    """
    groups: list[list[Frame]] = []
    last = None
    for frame, size in zip(frames, sizes if sizes is not None else frame_sizes(frames), strict=True):
        if size is None or size != last or len(groups[-1]) >= batch:
            groups.append([])
        groups[-1].append(frame)
        last = size
    return groups


def _translate_frames(job: _Job, groups: list[list[Frame]], *, workers: int, progress: bool,
                      summary: TranslateSummary) -> None:
    """Decode in threads, translate each batch that holds an unfinished frame (whole, so that its numbers
    are those of an uninterrupted run), write its unfinished frames in threads.

    A failed write (a full disk, a read-only folder) stops the run: frames not started are cancelled, those
    being written finish or remove their temporaries, and the error propagates; every frame written before it
    is whole and kept for the resume."""
    import time

    from tqdm import tqdm

    dev = next(job.model.parameters()).device
    todo = [g for g in groups if not all(job.done(f) for f in g)]
    total = sum(len(g) for g in todo)
    bar = tqdm(total=total, disable=not progress, unit="frame", desc="translate")
    start, warm = time.perf_counter(), True
    with ThreadPoolExecutor(workers) as readers, ThreadPoolExecutor(workers) as writers:
        pending: deque = deque()
        try:
            decoded = _prefetched(readers, job.decode, [f for g in todo for f in g], ahead=max(32, 4 * workers))
            for group in todo:
                ok = _decode_group(decoded, group, bar, summary)
                if not ok:
                    continue
                x = torch.cat([rgb_to_tensor(img) for _, img in ok]).to(dev)
                y = translate_batch(job.model, x, job.averaging).permute(0, 2, 3, 1).cpu().numpy()
                pending.extend(writers.submit(job.encode, frame, yi) for (frame, _), yi in zip(ok, y, strict=True)
                               if not job.done(frame))
                _collect(pending, 4 * workers, summary)  # back-pressure: a fast forward (GPU) must not queue all
                if warm and progress and total > len(group):  # the estimate the user decides on, early
                    warm = False
                    rate = len(group) / max(time.perf_counter() - start, 1e-9)
                    bar.write(f"first batch at {rate:.2f} frames/s: about {_duration(total / rate)} for {total} "
                              "frames")
            _collect(pending, 0, summary)  # surface write errors
        except BaseException:
            for pool in (writers, readers):
                pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            bar.close()


def _decode_group(decoded, group: list[Frame], bar, summary: TranslateSummary) -> list[tuple[Frame, np.ndarray]]:
    """The next ``len(group)`` decoded frames that could be read (the others into ``summary.unreadable``).

    Args:
        decoded: the iterator of (frame, image or error), in frame order.
        group: the batch's frames.
        bar: the progress bar, advanced per frame.
        summary: receives the unreadable frames.

    Returns:
        [(frame, RGB image)] of the readable ones.
    """
    ok: list[tuple[Frame, np.ndarray]] = []
    for _ in group:
        frame, img = next(decoded)
        bar.update(1)
        if isinstance(img, Exception):
            summary.unreadable.append(str(img))
        else:
            ok.append((frame, img))
    return ok


def _collect(pending: deque, keep: int, summary: TranslateSummary) -> None:
    """Wait for the oldest writes until at most ``keep`` are pending, counting them into ``summary``.

    Raises:
        OSError: the error of a failed write (and any other exception it raised).
    """
    while len(pending) > keep:
        pending.popleft().result()
        summary.written += 1


def _duration(seconds: float) -> str:
    """'1 h 05 min', '12 min', '40 s'."""
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    return f"{round(seconds / 60)} min" if seconds >= 120 else f"{round(seconds)} s"


def _prefetched(pool: ThreadPoolExecutor, fn, items: list, ahead: int):
    """``pool.map(fn, items)`` in order, but never more than ``ahead`` items decoded and waiting (map alone
    decodes a whole dataset ahead of a slow model)."""
    from collections import deque

    queue: deque = deque()
    it = iter(items)
    for item in it:
        queue.append(pool.submit(fn, item))
        if len(queue) >= ahead:
            break
    while queue:
        result = queue.popleft().result()
        nxt = next(it, None)
        if nxt is not None:
            queue.append(pool.submit(fn, nxt))
        yield result


SETTINGS = "settings.json"


def run_settings(src: str | Path, fmt: str, checkpoint: str | Path, camera: Camera, *, project: bool, bits: int,
                 batch: int, device: str = "cpu", backend: str = "torch") -> dict:
    """What decides a translated set's bytes: checkpoint (by hash), camera, projection, depth, batch, source,
    the device type (bf16 on CUDA and float32 on the CPU round differently) and the backend (torch or ONNX
    Runtime: float32 kernels that round differently)."""
    return {"checkpoint_sha256": file_sha256(Path(checkpoint)), "device": device, "backend": backend,
            "camera": np.round(camera.matrix(np.float64), 9).tolist(), "projected": project, "bits": bits,
            "batch": batch, "source": str(Path(src).resolve()), "source_format": source_format(src, fmt)}


def check_resume(out: Path, settings: dict) -> None:
    """Record ``settings`` for a new output; refuse to resume an output made with other settings.

    Raises:
        InputError: ``out`` holds frames translated with other settings (the message names the first
            difference) or without recorded settings.
    """
    path = out / ".translate" / SETTINGS
    if path.is_file():
        old = {"backend": "torch", **json.loads(path.read_text())}  # sets from before backends: torch
        diff = next((k for k in {**old, **settings} if old.get(k) != settings.get(k)), None)
        if diff is not None:
            what = ("another checkpoint" if diff == "checkpoint_sha256" else
                    f"{diff} {old.get(diff)!r}, now {settings.get(diff)!r}")
            raise InputError(f"{out}: translated with other settings ({what}); resuming would mix them in one set. "
                             "Translate into a new folder, or --overwrite to start over")
        return
    if any((out / ".translate" / "records").rglob("*.json")):
        raise InputError(f"{out}: holds translated frames without recorded settings; --overwrite to start over")
    write_text(path, json.dumps(settings, indent=1) + "\n")


def previous_backend(out: Path) -> str | None:
    """The backend ``out``'s recorded settings name ("torch" for sets from before backends were recorded);
    None when ``out`` has no readable settings (a new output)."""
    try:
        return json.loads((out / ".translate" / SETTINGS).read_text()).get("backend", "torch")
    except (OSError, ValueError, AttributeError):
        return None


def _shard_unreadable(out: Path) -> list[str]:
    return [u for p in sorted((out / ".translate" / "unreadable").glob("*.json")) for u in json.loads(p.read_text())]


def clear_output(out: Path) -> None:
    """Remove what ``translate`` writes into ``out`` (images, labels, YOLO export, records, manifest)."""
    import shutil

    for name in ("images", "labels", "yolo", ".translate"):
        shutil.rmtree(out / name, ignore_errors=True)
    (out / "manifest.json").unlink(missing_ok=True)


def _options_record(class_map: ClassMap | None, selection: Selection | None, sensor: SensorModel | None,
                    sensor_seed: int, averaging: Averaging = NO_AVERAGING) -> dict:
    """The options besides :func:`run_settings` that decide a translated set's frames, for the resume check
    (test-time averaging only when on: sets made before it existed resume)."""
    return {"class_map": class_map.table if class_map else None,
            **({"averaging": averaging.to_dict()} if averaging.active else {}),
            **({"selection": selection.to_dict()} if selection is not None else {}),
            **({"sensor": _sensor_record(sensor, sensor_seed)} if sensor is not None else {})}


def translate_dataset(src: str | Path, out: str | Path, model: Translator, checkpoint: str | Path,
                      camera: Camera, *, fmt: str = "auto", project: bool = False, batch: int = 4,
                      bits: int | None = None, shard: tuple[int, int] = (0, 1), workers: int = 4, progress: bool = True,
                      merge: bool = True, class_map: ClassMap | None = None,
                      selection: Selection | None = None, sensor: SensorModel | None = None, sensor_seed: int = 0,
                      space_check: bool = True, averaging: Averaging = NO_AVERAGING) -> TranslateSummary:
    """Translate every frame of ``src`` into ``out`` (see the module docstring).

    Args:
        src, fmt: the source (BDD100K, KITTI, COCO, YOLO root or a folder of images) and its layout or "auto".
        out: the polarimetric set to write (resumed when it holds finished frames).
        model, camera: the translator on its device, and its polarimetric camera.
        checkpoint: the checkpoint file the model came from (hashed into the manifest).
        project: project every output onto the admissible set (always on for 'project' checkpoints).
        batch, bits: frames per forward pass; depth (8, 10, 12 or 16; None: the camera's, ``output_bits``).
        shard, workers, progress: translate batches i, i+n, ... for (i, n); decode/encode threads; a bar.
        merge: write labels, YOLO export and manifest at the end (off for all shards but the last).
        class_map: renames the source's classes (``--class-map``).
        selection: translate only the frames it chooses (``--where``, ``--limit``, ``--seed``).
        sensor, sensor_seed: write every frame through this sensor (noise, mosaic, ...), each frame's noise
            from its own stream of the seed.
        space_check, averaging: refuse to start when the output's disk lacks the estimated space; test-time
            averaging of the generator's outputs (:class:`~polaraug.translate.infer.Averaging`).

    Returns:
        Counts of written, already present and unreadable frames.

    Raises:
        InputError: ``out`` holds frames translated with other settings (see :func:`check_resume`), a bad
            shard, or too little disk space.
    """
    src, out, bits = Path(src), Path(out), output_bits(camera, bits)
    idx, n_shards = shard
    selection = _checked_request(src, fmt, shard, selection)
    job = _Job(out, model, camera.matrix(np.float64), project or model.admissible, bits,
               out / ".translate" / "records", sensor, sensor_seed, averaging)
    check_resume(out, {**run_settings(src, fmt, checkpoint, camera, project=job.project, bits=bits, batch=batch,
                                      device=next(model.parameters()).device.type, backend=backend_name(model)),
                       **_options_record(class_map, selection, sensor, sensor_seed, averaging)})
    skip = SkipReport()
    summary = TranslateSummary(out=str(out), backend=backend_name(model), averaging=averaging)
    frames = _chosen_frames(list(source_frames(src, fmt, skip, class_map)), selection, summary)
    sizes = frame_sizes(frames)
    mine = batches(frames, batch, sizes)[idx::n_shards]
    _announce(job, frames, sizes, mine, summary, bits=bits, progress=progress, space_check=space_check)
    _translate_frames(job, mine, workers=workers, progress=progress, summary=summary)
    summary.unreadable += skip.skipped
    summary.dropped_boxes = dict(skip.dropped_boxes)
    # every shard's unreadable frames, for whichever process merges (manual --shard runs each merge)
    write_text(out / ".translate" / "unreadable" / f"{idx}_of_{n_shards}.json", json.dumps(summary.unreadable))
    if sensor is not None:
        summary.sensor = {**sensor.to_dict(), "bits": sensor.bits, "seed": sensor_seed}
    if merge:
        merge_outputs(out, camera, model, checkpoint, project=job.project, bits=bits, summary=summary,
                      source_format=source_format(src, fmt))
    return summary


def _checked_request(src: Path, fmt: str, shard: tuple[int, int], selection: Selection | None) -> Selection | None:
    """The active selection (None without one).

    Raises:
        InputError: a shard outside 0 <= i < n, or ``--where`` on a source without frame attributes.
    """
    idx, n_shards = shard
    if not 0 <= idx < n_shards:
        raise InputError(f"shard must be i/n with 0 <= i < n, got {idx}/{n_shards}")
    selection = selection if selection is not None and selection.active else None
    if selection is not None and selection.where and source_format(src, fmt) not in WITH_ATTRIBUTES:
        raise InputError(f"{src}: --where needs frame attributes (weather, timeofday, scene), which only "
                         f"BDD100K labels carry; this source is {source_format(src, fmt)}")
    return selection


def _sensor_record(sensor: SensorModel, seed: int) -> dict:
    """What decides a sensor's bytes, for the run's settings."""
    return {**sensor.to_dict(), "bits": sensor.bits, "seed": seed,
            "dofp_pattern": [list(r) for r in sensor.dofp_pattern] if sensor.dofp_pattern is not None else None}


def _chosen_frames(frames: list[Frame], selection: Selection | None, summary: TranslateSummary) -> list[Frame]:
    """The frames ``selection`` keeps (all without one); the counts go into ``summary``."""
    if selection is None:
        return frames
    chosen = selection.apply(frames)
    summary.selection = {**selection.to_dict(), "of": len(frames), "selected": len(chosen),
                         "line": selection.describe(len(frames), len(chosen), frames)}
    return chosen


def _announce(job: _Job, frames: list[Frame], sizes: list, mine: list[list[Frame]], summary: TranslateSummary, *,
              bits: int, progress: bool, space_check: bool) -> None:
    """Count what is already done (into ``summary``), say what is left and the disk space it takes; refuse
    when the disk lacks it (``space_check``). Each frame's outputs are looked up once."""
    size_of = {id(f): sz for f, sz in zip(frames, sizes, strict=True)}
    todo = [f for g in mine for f in g if not job.done(f)]
    summary.skipped_existing = sum(len(g) for g in mine) - len(todo)
    need = disk_estimate([size_of[id(f)] for f in todo], bits)
    if progress:
        from tqdm import tqdm

        tqdm.write(f"{len(todo)} frames to translate ({summary.skipped_existing} already done); about "
                   f"{need / 1e9:.2f} GB on disk ({bits}-bit PNGs)")
    if space_check and todo:
        check_space(job.out, need, len(todo))


def source_format(src: str | Path, fmt: str) -> str:
    """The source layout: ``fmt`` unless it is "auto", else the detected one."""
    return detect_format(Path(src)) if fmt == "auto" else fmt


def run_translation(src: str | Path, out: str | Path, *, checkpoint: str | Path, fmt: str = "auto",
                    project: bool = False, batch: int = 4, bits: int | None = None,
                    shard: tuple[int, int] = (0, 1),
                    device: str | None = None, workers: int = 4, compile_model: bool = False,
                    calibration: str | None = None, progress: bool = True,
                    overwrite: bool = False, class_map: str | Path | None = None,
                    selection: Selection | None = None, sensor: bool = True,
                    sensor_seed: int = 0, space_check: bool = True,
                    backend: str = "auto", averaging: Averaging = NO_AVERAGING) -> TranslateSummary | None:
    """``polaraug translate``: load the checkpoint, translate this process's shard, merge.

    Under torchrun (WORLD_SIZE > 1) each rank takes the shard of its rank and rank 0 merges once every
    rank is done. Arguments as :func:`translate_dataset`; ``compile_model`` wraps the generator in
    torch.compile; ``calibration`` (a camera file or built-in name) translates for another camera than
    the checkpoint's (Stokes-head checkpoints); ``overwrite`` removes a previous translation in ``out``
    first; ``class_map`` is a class map file (``polaraug.data.classmap``); ``selection`` translates only the
    frames it chooses; ``sensor`` writes every frame through the target camera's sensor model when its file
    has one (``sensor_seed`` seeds each frame's noise); ``backend``: auto, torch or onnxruntime
    (:mod:`polaraug.translate.backends`); ``averaging``: test-time averaging of each forward.

    Returns:
        The summary on the process that reports (rank 0, or the only one); None on other ranks.
    """
    check_bits(bits)
    checkpoint = resolve_checkpoint(checkpoint)  # 'default': the built-in translator's file
    cmap = ClassMap.load(class_map) if class_map else None  # bad map files fail before any work
    ctx = setup_distributed(pick_device(device))  # first: under torchrun each rank picks its own GPU
    # a bad checkpoint fails before anything is written (the lock creates the output folder)
    loaded = load_for_translation(checkpoint, str(ctx.device), load_camera(calibration) if calibration else None)
    backend = resolve_backend(backend, ctx.device.type, loaded[0], compile_model=compile_model,
                              previous=None if overwrite else previous_backend(Path(out)))
    lock_shard = (ctx.rank, ctx.world) if ctx.world > 1 else shard
    with output_lock(out, "polaraug translate", lock_shard):
        summary = _translate_locked(src, out, ctx, loaded, checkpoint=checkpoint, fmt=fmt, project=project, batch=batch,
                                    bits=bits, shard=shard, workers=workers, compile_model=compile_model,
                                    progress=progress, overwrite=overwrite, cmap=cmap,
                                    selection=selection, sensor=sensor, sensor_seed=sensor_seed,
                                    space_check=space_check, backend=backend, averaging=averaging)
    return summary if ctx.main else None


def _translate_locked(src, out, ctx, loaded: tuple[Translator, Camera], *, checkpoint: Path, fmt: str,
                      project: bool, batch: int, bits: int, shard: tuple[int, int], workers: int,
                      compile_model: bool, progress: bool, overwrite: bool, cmap: ClassMap | None,
                      selection: Selection | None, sensor: bool, sensor_seed: int,
                      space_check: bool, backend: str, averaging: Averaging) -> TranslateSummary:
    """:func:`run_translation`'s work once this process holds the output's lock (arguments as there;
    ``loaded``: the translator and its camera)."""
    model, camera = loaded
    if compile_model:
        model.g = torch.compile(model.g)
    if overwrite and ctx.main:
        clear_output(Path(out))
    if ctx.world > 1:
        barrier()  # nobody writes before rank 0 has cleared
    use_backend(model, backend, cache=Path(out) / ".translate" / "onnx")
    if ctx.world > 1:  # torchrun: one shard per rank, rank 0 merges after everyone is done
        shard = (ctx.rank, ctx.world)
    summary = translate_dataset(src, out, model, checkpoint, camera, fmt=fmt, project=project, batch=batch,
                                bits=bits, shard=shard, workers=workers, progress=progress and ctx.main,
                                merge=ctx.world == 1, class_map=cmap, selection=selection,
                                sensor=camera.sensor if sensor else None, sensor_seed=sensor_seed,
                                space_check=space_check, averaging=averaging)
    if ctx.world > 1:
        every = gather_objects(summary, ctx)  # every rank's counts and unreadable frames, for the manifest
        summary = TranslateSummary(sum(s.written for s in every), sum(s.skipped_existing for s in every),
                                   list(dict.fromkeys(u for s in every for u in s.unreadable)), summary.out,
                                   summary.dropped_boxes, summary.selection, summary.sensor,
                                   summary.backend, summary.averaging)  # ranks agree
        barrier()
        if ctx.main:
            merge_outputs(Path(out), camera, model, checkpoint, project=project or model.admissible, bits=bits,
                          summary=summary, source_format=source_format(src, fmt))
        teardown(ctx)
    return summary


def merge_outputs(out: Path, camera: Camera, model: Translator, checkpoint: str | Path, *, project: bool,
                  bits: int | None, summary: TranslateSummary, source_format: str = "bdd100k") -> Path:
    """Labels (BDD100K det_20 per split, YOLO export), and the manifest, from every shard's records and
    unreadable lists; the temporaries a killed earlier run left behind files that exist are removed (those
    of a shard still writing are not: their files do not exist yet)."""
    bits = output_bits(camera, bits)  # None: the camera's, as the shards wrote them
    remove_stale_temporaries(out / "images", only_done=True)
    remove_stale_temporaries(out / ".translate", only_done=True)
    records = [json.loads(p.read_text()) for p in sorted((out / ".translate" / "records").glob("*/*.json"))]
    unreadable = sorted({*summary.unreadable, *_shard_unreadable(out)})  # frame order, whoever found them
    writer = PolarSetWriter(out, camera, bits=bits, created_by="polaraug translate", extra={
        "checkpoint": str(checkpoint), "checkpoint_sha256": file_sha256(Path(checkpoint)),
        "translator": translator_name(checkpoint), "constraint_mode": model.cfg.mode, "head": model.cfg.head,
        "projected": project, "backend": backend_name(model),
        "frames": {f"{r['split']}/{r['stem']}": r["status"] for r in records}, "unreadable": unreadable,
        "dropped_boxes": summary.dropped_boxes,
        **({"selection": summary.selection} if summary.selection else {}),
        **({"sensor": summary.sensor} if summary.sensor else {}),
        **({"averaging": summary.averaging.to_dict()} if summary.averaging.active else {})})
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
