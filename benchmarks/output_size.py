"""Benchmark: disk space of a translated frame per bit depth and container, measured in one run.

Translates RGB frames with the built-in translator (``--src``, a folder of images; default: ``--frames``
rendered road scenes of ``--size``), then encodes every translation at 8, 10, 12 and 16 bits in each lossless
container option and prints MB per frame (mean and largest), encoding seconds per frame, the size of a
BDD100K-sized set (``--bdd-frames``, 70k) and the size against a 16-bit PNG:

- ``png``: what ``translate`` writes: a PNG at the depth's container (8 or 16 bits), 10 and 12 bits shifted
  up with zero low bits and an sBIT chunk (``polaraug.io.significant``);
- ``png-lsb``: 10 and 12 bits at the bottom of 16-bit samples (polaraug's layout before sBIT);
- ``tiff-zlib1``, ``tiff-zlib6``: TIFF with the horizontal predictor and deflate at level 1 / 6;
- ``tiff-lzma``: TIFF with the horizontal predictor and LZMA (tifffile's own codecs: no imagecodecs).

Every option is decoded again and compared with the values written (``lossless`` in the table), and the PNGs
are read back through ``read_image``. Last, ``polaraug translate SRC OUT`` runs with its defaults (no
``--bits``, no ``--calibration``) and the files it wrote are measured: the default output's MB per frame.

    .venv/bin/python benchmarks/output_size.py [--src FOLDER] [--frames 4 --size 1280x720] [--json out.json]

``--quick``: 2 rendered frames of 128x96, a smoke test the suite runs (its sizes mean nothing).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from polaraug.io.images import read_image, write_image
from polaraug.io.listing import list_images
from polaraug.io.significant import png_significant_bits
from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate.builtin import builtin_translator
from polaraug.translate.dataset import load_for_translation, run_translation
from polaraug.translate.infer import translate_image

DEPTHS = (8, 10, 12, 16)
OPTIONS = ("png", "png-lsb", "tiff-zlib1", "tiff-zlib6", "tiff-lzma")


def quantised(y: np.ndarray, bits: int) -> np.ndarray:
    """Intensities (H, W, 4) in [0, 1] -> values 0 .. 2**bits - 1 (uint8 or uint16)."""
    top = 2**bits - 1
    return np.clip(np.rint(y * top), 0, top).astype(np.uint8 if bits == 8 else np.uint16)


def _tiff(q: np.ndarray, compression: str, level: int | None) -> tuple[bytes, np.ndarray]:
    """A TIFF's bytes (horizontal predictor) and the values decoded from them."""
    buf = io.BytesIO()
    tifffile.imwrite(buf, q, photometric="rgb", extrasamples=[2], compression=compression, predictor=2,
                     compressionargs={"level": level} if level is not None else None)
    data = buf.getvalue()
    return data, tifffile.imread(io.BytesIO(data))


def _png(q: np.ndarray, bits: int, option: str, scratch: Path) -> tuple[int, np.ndarray]:
    """A PNG's size and the values ``read_image`` returns from it."""
    path = scratch / f"{option}-{bits}.png"
    if option == "png":
        write_image(path, q, bits=bits)
        assert png_significant_bits(path) == bits, "the sBIT chunk must say the depth"
    else:
        write_image(path, q)
    return path.stat().st_size, read_image(path)


def encode(q: np.ndarray, bits: int, option: str, scratch: Path) -> tuple[int, float, bool]:
    """(bytes, encoding seconds, decoded values equal to ``q``) of one frame in one option."""
    t0 = time.perf_counter()
    if option.startswith("png"):
        size, back = _png(q, bits, option, scratch)
    else:
        level = {"tiff-zlib1": 1, "tiff-zlib6": 6}.get(option)
        data, back = _tiff(q, "lzma" if option == "tiff-lzma" else "zlib", level)
        size = len(data)
    return size, time.perf_counter() - t0, bool(np.array_equal(back, q))


def measure(translations: list[np.ndarray], scratch: Path) -> dict:
    """{option: {bits: {"mb": [per frame], "seconds": [...], "lossless": bool}}}."""
    out: dict = {}
    for option in OPTIONS:
        for bits in DEPTHS:
            if option == "png-lsb" and bits in (8, 16):
                continue  # the same file as png
            runs = [encode(quantised(y, bits), bits, option, scratch) for y in translations]
            out.setdefault(option, {})[bits] = {"mb": [r[0] / 1e6 for r in runs],
                                                "seconds": [r[1] for r in runs],
                                                "lossless": all(r[2] for r in runs)}
    return out


def sources(args: argparse.Namespace, work: Path) -> list[Path]:
    """The RGB frames: ``--src``'s images, or freshly rendered ones."""
    if args.src is not None:
        return list_images(args.src)
    w, h = (int(v) for v in args.size.split("x"))
    generate(SynthConfig(n=args.frames, width=w, height=h, mode="rgb", val_fraction=0.0, seed=1), work / "render",
             progress=False)
    return sorted((work / "render").rglob("*.jpg"))


def default_output(frames: list[Path], work: Path) -> dict:
    """``polaraug translate`` with its defaults on ``frames``: the depth it chose and its files' sizes."""
    src = work / "src"
    src.mkdir()
    for i, f in enumerate(frames):  # one flat folder of images: the plain-folder layout
        (src / f"{i:04d}{f.suffix}").write_bytes(f.read_bytes())
    t0 = time.perf_counter()
    run_translation(src, work / "out", checkpoint="default", device="cpu", workers=2, progress=False)
    seconds = time.perf_counter() - t0
    files = sorted((work / "out" / "images").rglob("*.png"))
    manifest = json.loads((work / "out" / "manifest.json").read_text())
    return {"bits": manifest["bit_depth"], "sbit": [png_significant_bits(p) for p in files],
            "mb": [p.stat().st_size / 1e6 for p in files], "seconds_per_frame": seconds / max(len(files), 1)}


def report(sizes: dict, default: dict, shape: tuple[int, int], bdd_frames: int) -> None:
    """Print the table: MB per frame, encoding time, the BDD100K-sized estimate, and the default's size."""
    ref = float(np.mean(sizes["png"][16]["mb"]))
    print(f"frames {shape[1]}x{shape[0]}, {len(sizes['png'][8]['mb'])} of them; BDD100K-sized set: {bdd_frames} "
          "frames")
    print("| option | bits | MB/frame (mean) | MB/frame (largest) | encode s/frame | GB per set | vs 16-bit PNG |"
          " lossless |")
    print("|---|---|---|---|---|---|---|---|")
    for option, by_bits in sizes.items():
        for bits, r in by_bits.items():
            mean = float(np.mean(r["mb"]))
            print(f"| {option} | {bits} | {mean:.2f} | {max(r['mb']):.2f} | {np.mean(r['seconds']):.2f} | "
                  f"{mean * bdd_frames / 1e3:.0f} | {mean / ref:.2f} | {'yes' if r['lossless'] else 'NO'} |")
    mean = float(np.mean(default["mb"]))
    print(f"polaraug translate, defaults: {default['bits']}-bit PNGs (sBIT {sorted(set(default['sbit']))}), "
          f"{mean:.2f} MB/frame (largest {max(default['mb']):.2f}), {mean * bdd_frames / 1e3:.0f} GB for "
          f"{bdd_frames} frames; {default['seconds_per_frame']:.2f} s/frame end to end")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", type=Path, default=None, help="a folder of RGB images (default: rendered frames)")
    ap.add_argument("--frames", type=int, default=4, help="frames to render without --src")
    ap.add_argument("--size", default="1280x720", help="rendered frames' size")
    ap.add_argument("--bdd-frames", type=int, default=70000)
    ap.add_argument("--json", type=Path, default=None, help="write the measurements here")
    ap.add_argument("--quick", action="store_true", help="2 rendered frames of 128x96")
    args = ap.parse_args()
    if args.quick:
        args.src, args.frames, args.size = None, 2, "128x96"
    model, _ = load_for_translation(builtin_translator(), "cpu")
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        frames = sources(args, work)
        translations = [translate_image(model, read_image(f)) for f in frames]
        (work / "scratch").mkdir()
        sizes = measure(translations, work / "scratch")
        default = default_output(frames, work)
    report(sizes, default, translations[0].shape[:2], args.bdd_frames)
    if args.json is not None:
        args.json.write_text(json.dumps({"frames": [str(f) for f in frames], "sizes": sizes, "default": default},
                                        indent=1) + "\n")
    lossy = [f"{o} {b}" for o, by in sizes.items() for b, r in by.items() if not r["lossless"]]
    if lossy:
        print(f"not lossless: {', '.join(lossy)}", file=sys.stderr)
    return 1 if lossy else 0


if __name__ == "__main__":
    raise SystemExit(main())
