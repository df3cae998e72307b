"""Does polarization help a detector at all? The polarimetric detector against a grey one, on the same data.

The usefulness benchmark's controls ("+ the twins, unpolarized") mix unpolarized *added* frames into
polarimetric real ones and test on polarimetric frames: they ask whether the added frames' polarization
matters. In an encoding whose polarization channels are far from constant on real frames (``hsv``: AoLP as
hue is noise wherever DoLP is small) such frames are also out of distribution, so that control is not clean
there. This asks the question a user decides on: with the same real frames, the same added frames and the
same test frames, does a detector that sees polarization beat one that sees the intensity s0 alone?

The grey pipeline writes every set depolarized (same s0, DoLP 0: ``I = A (s0, 0, 0)``, the camera's own
record of unpolarized light), trains ``real`` and ``real+oracle`` (and ``real+translated`` when given) with
the usefulness benchmark's settings and seeds (the same real subsets, the same added scenes), and compares
each arm with the polarimetric runs' saved scores: paired Student-t over seeds and a paired bootstrap over
the test images.

Run (about 2.5 min per training on 2 cores; 5 seeds x 2 arms)::

    .venv/bin/python benchmarks/grey_detector.py --data U/data --work /tmp/grey \\
        --polarized docs/figures/usefulness/mix_n25 --json docs/figures/grey_detector.json

``U`` is a usefulness benchmark's ``--out`` (``polaraug eval-detection``). ``--polarized`` may be given
several times (``NAME=DIR``, e.g. an hsv-encoded run) to compare each with the grey detector. ``--quick``:
tiny rendered sets, one epoch (the test suite runs it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

from polaraug.data.polarset import read_polarset
from polaraug.detect.arms import ExperimentInputs
from polaraug.detect.evaluation import eval_detection
from polaraug.detect.imagestats import ImageStats, paired_bootstrap
from polaraug.detect.settings import DetectionSettings
from polaraug.detect.stats import paired_difference
from polaraug.io.images import write_image
from polaraug.physics import depolarize
from polaraug.physics.quantize import quantize_admissible

ARMS = {"real": "real", "real+oracle": "real_oracle", "real+translated": "real_translated"}


def depolarized_copy(src: Path, dst: Path) -> Path:
    """A copy of polaraug set ``src`` whose frames carry the same s0 and no polarization (skipped when done).

    Args:
        src: a polaraug-layout polarimetric set.
        dst: where the copy goes (same layout, file names, labels and manifest).

    Returns:
        ``dst``.
    """
    done = dst / ".depolarized"
    if done.is_file():
        return dst
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    ps = read_polarset(dst)
    a = ps.camera.matrix(np.float64)
    for split in ps.splits or ("train",):
        for frame in ps.frames(split):
            y = depolarize(ps.load(frame), a)
            write_image(frame.image, quantize_admissible(np.clip(y, 0, None), a, ps.bits))
    done.write_text("every frame depolarized\n")
    return dst


def grey_inputs(data: Path, work: Path, translated: bool) -> ExperimentInputs:
    """The benchmark's sets (``data``: a usefulness run's data folder), depolarized into ``work``."""
    grey = {name: depolarized_copy(data / rel, work / "sets" / name)
            for name, rel in (("real", "real"), ("test", "test"), ("oracle", "pool/polar"),
                              *((("translated", "translated"),) if translated else ()))}
    return ExperimentInputs(grey["real"], grey["test"],
                            synthetic={"translated": grey["translated"]} if translated else {},
                            oracle=grey["oracle"], controls=())


def settings_from(polarized: Path, encoding: str | None) -> DetectionSettings:
    """The detector settings of a saved polarimetric experiment (its settings.json), optionally re-encoded."""
    from dataclasses import replace

    settings = DetectionSettings.from_dict(json.loads((polarized / "settings.json").read_text()))
    return replace(settings, encoding=encoding) if encoding else settings


def compare(grey_scores: Path, polarized: Path, arm: str, seeds: tuple[int, ...]) -> dict | None:
    """Polarimetric minus grey mAP50 of one arm: paired over seeds (Student-t) and test images (bootstrap)."""
    slug = ARMS[arm]
    pol = [polarized / f"{slug}_s{s}" for s in seeds]
    grey = [grey_scores / f"{slug}_s{s}" for s in seeds]
    if not all(p.with_suffix(".json").is_file() for p in pol + grey):
        return None
    maps = {name: [json.loads(p.with_suffix(".json").read_text())["map50"] for p in paths]
            for name, paths in (("grey", grey), ("polarized", pol))}
    boot = paired_bootstrap([ImageStats.load(p.with_suffix(".npz")) for p in grey],
                            [ImageStats.load(p.with_suffix(".npz")) for p in pol])
    return {"grey": maps["grey"], "polarized": maps["polarized"],
            "polarized_minus_grey": paired_difference(maps["grey"], maps["polarized"]), "bootstrap": boot}


def largest_dolp(root: Path) -> float:
    """The largest DoLP of the first frame of a polaraug set where s0 is above 5 % (a check of the copy)."""
    from polaraug.physics import dolp, stokes_from_intensities

    ps = read_polarset(root)
    frame = next(iter(ps.frames(next(iter(ps.splits or {"train": 0})))))
    s = stokes_from_intensities(ps.load(frame).astype(np.float64), ps.camera.matrix(np.float64))
    return float(dolp(s)[s[..., 0] > 0.05].max())


def interval(d: dict) -> str:
    """'[low, high]', or 'n/a' where one seed gives no interval."""
    return "n/a" if d.get("low") is None else f"[{d['low']:+.3f}, {d['high']:+.3f}]"


def quick_data(root: Path) -> tuple[Path, Path]:
    """Tiny usefulness-like sets and a fake saved polarimetric experiment (one seed of real and oracle)."""
    from polaraug.synth.generate import SynthConfig, generate

    data = root / "data"
    generate(SynthConfig(n=6, width=96, height=64, seed=1, mode="polar", domain="shifted", weather="clear",
                         val_fraction=0.0), data / "real", progress=False)
    generate(SynthConfig(n=6, width=96, height=64, seed=2, mode="polar", domain="shifted", val_fraction=0.0),
             data / "test", progress=False)
    generate(SynthConfig(n=4, width=96, height=64, seed=3, mode="paired", domain="shifted", val_fraction=0.0),
             data / "pool", progress=False)
    settings = DetectionSettings(seeds=(0,), epochs=1, imgsz=64, batch=4, nbs=4, real_size=3, ratios=(1.0,))
    polarized = root / "polarized"
    eval_detection(ExperimentInputs(data / "real", data / "test", oracle=data / "pool" / "polar"), polarized,
                   settings=settings, progress=False)
    (polarized / "scores" / "settings.json").write_text(json.dumps(settings.to_dict()))
    return data, polarized / "scores"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, help="a usefulness run's data folder (real, test, pool, translated)")
    p.add_argument("--work", type=Path, help="where the grey sets and trainings go (resumable)")
    p.add_argument("--polarized", action="append", default=[],
                   help="[NAME=]DIR of saved polarimetric scores with their settings.json (repeatable)")
    p.add_argument("--translated", action="store_true", help="also the real+translated arm")
    p.add_argument("--json", type=Path, help="write the comparison here")
    p.add_argument("--quick", action="store_true", help="tiny rendered sets, one epoch (smoke test)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            args.data, saved = quick_data(Path(tmp))
            args.work, args.polarized = Path(tmp) / "grey", [f"quick={saved}"]
        elif args.data is None or args.work is None or not args.polarized:
            sys.exit("give --data, --work and at least one --polarized (or --quick)")
        named = dict(v.partition("=")[::2] if "=" in v else (Path(v).name, v) for v in args.polarized)
        named = {k: Path(v) for k, v in named.items()}
        first = next(iter(named.values()))
        settings = settings_from(first, "intensities")  # grey frames: every encoding carries s0 alone
        inputs = grey_inputs(args.data, args.work, args.translated)
        print(f"grey sets in {args.work / 'sets'}: largest DoLP of a test frame {largest_dolp(inputs.real_test):.4f}")
        eval_detection(inputs, args.work / "experiment", settings=settings, progress=not args.quick)
        arms = ["real", "real+oracle", *(["real+translated"] if args.translated else [])]
        result = {"settings": settings.to_dict(), "grey_scores": str(args.work / "experiment" / "scores"),
                  "comparisons": {name: {arm: compare(args.work / "experiment" / "scores", folder, arm,
                                                      settings.seeds) for arm in arms}
                                  for name, folder in named.items()}}
    for name, arms_ in result["comparisons"].items():
        for arm, c in arms_.items():
            if c is None:
                print(f"{name} {arm}: no saved polarimetric scores for these seeds")
                continue
            d, b = c["polarized_minus_grey"], c["bootstrap"]
            print(f"{name} {arm}: polarized - grey mAP50 {d['mean']:+.3f} {interval(d)} (seeds), {interval(b)} "
                  "(test images)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
