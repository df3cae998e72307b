"""Benchmark: translating frames on the fly while a detector trains vs storing the translation once, in one run.

Measured on the same RGB frames (synthetic renders at ``--size``, default BDD100K's 1280x720):

- on the fly: images/s of ``OnTheFlyDataset.load_image`` at ``--imgsz`` (read the RGB JPEG, resize as
  ultralytics does, translate with the built-in translator at that size, encode) on the CPU, and on CUDA when
  one is present;
- stored: ``polaraug translate``'s frames/s at full size plus the export to the detector's 8-bit PNGs (paid
  once), and the images/s of ultralytics reading those PNGs back and resizing them (paid every epoch);
- a detector's own training speed: yolov8n forward + backward images/s at ``--imgsz`` (letterboxed square).

It prints the break-even: storing costs ``1 / translate + 1 / export`` seconds per frame once, then
``1 / read`` per epoch; on the fly costs ``1 / on-the-fly`` per epoch, so storing wins after
``E = (1 / translate + 1 / export) / (1 / on-the-fly - 1 / read)`` epochs. Every step is timed twice: wall
seconds, and CPU seconds of the whole process (every thread; ``time.process_time``), which another job on the
machine slows far less: on a shared machine the CPU-seconds break-even is the one to read.

    .venv/bin/python benchmarks/on_the_fly.py [--frames 8 --size 1280x720 --imgsz 640 --threads 2]

``--quick``: 2 frames of 96x64 at imgsz 64, a smoke test the suite runs (its numbers mean nothing).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

OMP_AT_START = os.environ.get("OMP_NUM_THREADS", "unset")  # importing ultralytics sets it to 1 when unset
os.environ.setdefault("YOLO_OFFLINE", "true")  # before ultralytics is imported: nothing is downloaded
os.environ.setdefault("MPLBACKEND", "Agg")


def _args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", default="1280x720", help="RGB frames' WxH")
    ap.add_argument("--imgsz", type=int, default=640, help="the detector's training size (long side)")
    ap.add_argument("--encoding", default="intensities")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    ap.add_argument("--detector-batch", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="2 frames of 96x64 at imgsz 64")
    args = ap.parse_args()
    if args.quick:
        args.frames, args.size, args.imgsz = 2, "96x64", 64
    return args


def _dataset(data_yaml: Path, imgsz: int, frames=None):
    """ultralytics' evaluation-mode dataset of ``data_yaml`` (no mosaic buffer: every load reads the file);
    with ``frames`` (a FrameTranslator), the on-the-fly one."""
    from functools import partial

    from ultralytics.cfg import get_cfg
    from ultralytics.data import build, build_yolo_dataset
    from ultralytics.data.utils import check_det_dataset

    from polaraug.detect.on_the_fly import OnTheFlyDataset

    data, original = check_det_dataset(str(data_yaml)), build.YOLODataset
    if frames is not None:
        build.YOLODataset = partial(OnTheFlyDataset, frames=frames)
    try:
        return build_yolo_dataset(get_cfg(overrides={"imgsz": imgsz}), data["train"], 1, data, mode="val",
                                  stride=32)
    finally:
        build.YOLODataset = original


class Rate(tuple):
    """(images per wall second, CPU seconds per image) of one step."""

    @classmethod
    def of(cls, n: int, fn) -> Rate:
        """Time ``fn()``, which handles ``n`` images."""
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        return cls((n / (time.perf_counter() - w0), (time.process_time() - c0) / n))


def _load_rate(dataset, warm: bool) -> Rate:
    """``dataset.load_image`` over every image (one untimed load first when ``warm``)."""
    if warm:
        dataset.load_image(0)
    return Rate.of(len(dataset.im_files), lambda: [dataset.load_image(i) for i in range(len(dataset.im_files))])


def _detector_rate(imgsz: int, channels: int, batch: int) -> Rate:
    """yolov8n forward + backward images/s at imgsz x imgsz on the CPU (a stand-in loss: the sum of outputs)."""
    import torch
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel("yolov8n.yaml", ch=channels, nc=10, verbose=False).train()
    x = torch.rand(batch, channels, imgsz, imgsz)

    def step() -> None:
        out = model(x)
        parts = out.values() if isinstance(out, dict) else out if isinstance(out, (list, tuple)) else [out]
        sum(p.float().sum() for p in parts if torch.is_tensor(p)).backward()
        model.zero_grad(set_to_none=True)

    step()
    return Rate.of(2 * batch, lambda: [step() for _ in range(2)])


def _stored(src: Path, d: Path, args) -> tuple[Rate, Rate, Rate, str]:
    """(translate, export, read at imgsz, translate's backend) of the stored path."""
    from polaraug.detect.datasets import export_polar
    from polaraug.translate.dataset import run_translation

    summary = []
    translate = Rate.of(args.frames, lambda: summary.append(run_translation(
        src, d / "translated", checkpoint="default", device="cpu", progress=False, batch=1, workers=1)))
    export = Rate.of(args.frames, lambda: export_polar(d / "translated", d / "stored", args.encoding))
    read = _load_rate(_dataset(d / "stored" / "data.yaml", args.imgsz), warm=True)
    return translate, export, read, getattr(summary[0], "backend", "") or "torch"


def _on_the_fly(d: Path, args, device: str, backend: str) -> Rate:
    """On-the-fly loading at imgsz on ``device`` with ``backend`` (the translator loaded before timing)."""
    from polaraug.detect.datasets import export_rgb, images, listing_yaml
    from polaraug.detect.on_the_fly import FrameTranslator, OnTheFly

    rgb = export_rgb(d / "src", d / "rgb")
    data = listing_yaml(d / "stored", f"otf_{device}", images(rgb), images(rgb))  # rooted at the stored set
    frames = FrameTranslator(OnTheFly(roots=(str(rgb / "images"),), encoding=args.encoding, device=device,
                                      backend=backend))
    frames.loaded()
    return _load_rate(_dataset(data, args.imgsz, frames), warm=True)


def _break_even(rates: dict, dev: str, k: int) -> tuple[float, float]:
    """(epochs after which storing wins, a CPU detector epoch's time on the fly / stored) in wall (k=0) or CPU
    (k=1) seconds."""
    cost = {name: (1 / r[0] if k == 0 else r[1]) for name, r in rates.items()}
    once = cost["translate"] + cost["export"]
    per_epoch = cost[dev] - cost["read"]
    slower = (cost["detector"] + cost[dev]) / (cost["detector"] + cost["read"])
    return (once / per_epoch if per_epoch > 0 else 0.0), slower


def _report(args, rates: dict, backend: str) -> None:
    import torch

    print(f"{args.frames} RGB frames {args.size}, detector imgsz {args.imgsz}, encoding {args.encoding}, "
          f"built-in translator, torch threads {torch.get_num_threads()}, OMP_NUM_THREADS={OMP_AT_START}, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    label = {"translate": f"stored: translate ({backend}, full size, once)", "export": "stored: export (once)",
             "read": f"stored: read and resize (per epoch), {args.imgsz} px",
             "detector": f"detector step (yolov8n, CPU), {args.imgsz} px"}
    label |= {k: f"on the fly, {k.replace('/', ', ')}, {args.imgsz} px" for k in rates if "/" in k}
    for name, (wall, cpu) in rates.items():
        print(f"  {label[name]:<48} {wall:9.3f} images/s  {cpu:8.4f} CPU s/image")
    for dev in [k for k in rates if "/" in k]:
        even, slower = _break_even(rates, dev, 0)
        line = (f"on the fly ({dev}) / stored read: {rates[dev][0] / rates['read'][0]:.4f}x; storing wins after "
                f"{even:.2f} epochs; a CPU detector epoch takes {slower:.2f}x as long on the fly")
        if dev.startswith("cpu"):  # a GPU's time is not the process's CPU time
            even_cpu, slower_cpu = _break_even(rates, dev, 1)
            line += f" (in CPU seconds: {even_cpu:.2f} epochs, {slower_cpu:.2f}x)"
        print(line)


def main() -> int:
    import torch

    from polaraug.synth.generate import SynthConfig, generate

    args = _args()
    if args.threads:
        torch.set_num_threads(args.threads)
    w, h = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        os.environ.setdefault("YOLO_CONFIG_DIR", str(d / "cfg"))
        generate(SynthConfig(n=args.frames, width=w, height=h, mode="rgb", val_fraction=0.0), d / "src",
                 workers=1, progress=False)
        rates: dict[str, float] = {}
        rates["translate"], rates["export"], rates["read"], backend = _stored(d / "src", d, args)
        from polaraug.translate.backends import onnxruntime_installed

        for name in (["onnxruntime"] if onnxruntime_installed() else []) + ["torch"]:
            rates[f"cpu/{name}"] = _on_the_fly(d, args, "cpu", name)
        if torch.cuda.is_available():
            rates["cuda/torch"] = _on_the_fly(d, args, "cuda", "torch")
        channels = 4 if args.encoding == "intensities" else 3
        rates["detector"] = _detector_rate(args.imgsz, channels, args.detector_batch)
    _report(args, rates, backend)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
