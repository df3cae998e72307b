"""Soak: a long ``translate`` and a long ``validate`` in one process, sampling its resident memory (VmRSS)
and open file descriptors, to show both stay flat once warm (target: <= 5 % growth after warm-up).

An RGB set of ``--frames`` frames of ``--size`` is rendered (``polaraug synth``), translated with
``--checkpoint`` (default: the built-in translator) through the call ``polaraug translate`` makes
(``run_translation``), then the translated set is validated ``--passes`` times (``run_validation``, with
``--workers 1`` by default so that every frame is checked in this process, where a leak would show). A
thread samples every ``--interval`` seconds; each validate pass ends with a sample too.

Warm-up: translate's first 10 % of frames; validate's first pass. Growth: (value at the end - value at the
end of warm-up) / value at warm-up; the peak after warm-up is reported the same way.

    nice -n 10 .venv/bin/python benchmarks/soak.py [--frames 2000 --size 96x72 --passes 10 --interval 1]
        [--json docs/figures/soak.json]

``--quick``: 12 frames of 64x48 one at a time, 2 passes (a smoke test the suite runs; its growth figures mean
nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import threading
import time
from pathlib import Path

from polaraug.synth.generate import SynthConfig, generate
from polaraug.translate.dataset import run_translation
from polaraug.validate import run_validation

TARGET = 5.0  # % growth after warm-up
WARMUP = 0.1  # translate: the share of frames that warms up


def rss_kb() -> int:
    """This process's resident set size in kB (VmRSS of /proc/self/status)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def open_fds() -> int:
    """Open file descriptors of this process (entries of /proc/self/fd, less the one listing them)."""
    return len(os.listdir("/proc/self/fd")) - 1


class Sampler(threading.Thread):
    """Samples RSS and fds every ``interval`` seconds with the phase and its frames done so far.

    Args:
        interval: seconds between samples.
    """

    def __init__(self, interval: float):
        super().__init__(daemon=True)
        self.interval, self.samples = interval, []
        self.phase, self.progress = "start", lambda: 0
        self._halt, self._guard, self._t0 = threading.Event(), threading.Lock(), time.perf_counter()

    def sample(self) -> dict:
        """Take one sample now (any thread).

        Returns:
            {"t": seconds since start, "phase", "done": frames, "rss_kb", "fds"}.
        """
        s = {"t": round(time.perf_counter() - self._t0, 3), "phase": self.phase, "done": self.progress(),
             "rss_kb": rss_kb(), "fds": open_fds()}
        with self._guard:
            self.samples.append(s)
        return s

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self.sample()

    def stop(self) -> None:
        self._halt.set()
        self.join()


def _files_in(folder: Path) -> int:
    """PNG files under ``folder``'s split folders (frames translate has written so far)."""
    try:
        return sum(1 for split in os.scandir(folder) if split.is_dir() for f in os.scandir(split.path)
                   if f.name.endswith(".png") and not f.name.startswith("."))
    except FileNotFoundError:
        return 0


def growth(warm: dict, later: list[dict]) -> dict:
    """RSS and fd growth after warm-up.

    Args:
        warm: the sample at the end of warm-up.
        later: the samples after it (the last one is the end).

    Returns:
        {"warmup": warm, "end": the last sample, "rss_growth_pct", "rss_peak_growth_pct", "fds_growth_pct",
        "fds_peak_growth_pct"}.
    """
    end = later[-1]

    def pct(key: str, value: int) -> float:
        return round(100.0 * (value - warm[key]) / warm[key], 2)

    return {"warmup": warm, "end": end, "rss_growth_pct": pct("rss_kb", end["rss_kb"]),
            "rss_peak_growth_pct": pct("rss_kb", max(s["rss_kb"] for s in later)),
            "fds_growth_pct": pct("fds", end["fds"]), "fds_peak_growth_pct": pct("fds", max(s["fds"] for s in later))}


def soak_translate(src: Path, out: Path, sampler: Sampler, args) -> dict:
    """Translate ``src`` into ``out`` under the sampler; the growth after the first ``WARMUP`` of frames."""
    sampler.phase, sampler.progress = "translate", lambda: _files_in(out / "images")
    first = len(sampler.samples)
    t0 = time.perf_counter()
    summary = run_translation(src, out, checkpoint=args.checkpoint, batch=args.batch, device="cpu", workers=2,
                              progress=False, space_check=False)
    seconds = time.perf_counter() - t0
    sampler.progress = lambda: args.frames
    samples = [*sampler.samples[first:], sampler.sample()]
    warm_at = next(i for i, s in enumerate(samples) if s["done"] >= WARMUP * args.frames)
    if warm_at == len(samples) - 1:
        raise SystemExit(f"translate took {seconds:.1f} s: too short for --interval {args.interval}")
    return {"frames": args.frames, "seconds": round(seconds, 1), "backend": getattr(summary, "backend", "torch"),
            **growth(samples[warm_at], samples[warm_at + 1:])}


def soak_validate(root: Path, sampler: Sampler, args) -> dict:
    """Validate ``root`` ``args.passes`` times under the sampler; the growth after the first pass."""
    ends = []
    t0 = time.perf_counter()
    for k in range(args.passes):
        sampler.phase, sampler.progress = f"validate {k + 1}", (lambda k=k: k * args.frames)
        run = run_validation(root, workers=args.workers, progress=False)
        if len(run.report.frames) != args.frames or run.failures:
            raise SystemExit(f"{root}: pass {k + 1} checked {len(run.report.frames)} frames: {run.failures}")
        sampler.progress = lambda k=k: (k + 1) * args.frames
        ends.append(sampler.sample())
    seconds = time.perf_counter() - t0
    first_end = sampler.samples.index(ends[0])
    later = [s for s in sampler.samples[first_end + 1:] if s["phase"].startswith("validate")]
    return {"frames": args.frames * args.passes, "passes": args.passes, "seconds": round(seconds, 1),
            "pass_ends": ends, **growth(ends[0], later)}


def _line(name: str, g: dict, warm: str, end: str) -> str:
    w, e = g["warmup"], g["end"]
    return (f"{name}: RSS {w['rss_kb'] / 1024:.1f} MB {warm} -> {e['rss_kb'] / 1024:.1f} MB {end} "
            f"({g['rss_growth_pct']:+.1f} %, peak {g['rss_peak_growth_pct']:+.1f} %); fds {w['fds']} -> {e['fds']} "
            f"({g['fds_growth_pct']:+.1f} %, peak {g['fds_peak_growth_pct']:+.1f} %)")


def report(result: dict) -> None:
    """Print the two phases' growth and the verdict."""
    t, v = result["translate"], result["validate"]
    s = result["settings"]
    print(f"soak: translate {t['frames']} frames {s['size']} ({s['checkpoint']}, {t['backend']}) in {t['seconds']} s; "
          f"validate "
          f"{v['passes']} passes = {v['frames']} frames in {v['seconds']} s (workers {s['workers']}); "
          f"{len(result['samples'])} samples")
    print(_line("translate", t, f"at warm-up ({t['warmup']['done']} frames)", "at the end"))
    print(_line("validate", v, "after pass 1", f"after pass {v['passes']}"))
    worst = max(abs(g[k]) for g in (t, v) for k in ("rss_growth_pct", "fds_growth_pct"))
    verdict = "met" if worst <= TARGET else "NOT met"
    print(f"largest growth after warm-up: {worst:.1f} % (target <= {TARGET:.0f} %: {verdict})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=2000, help="frames translated (and validated per pass)")
    ap.add_argument("--size", default="96x72")
    ap.add_argument("--passes", type=int, default=10, help="validate passes over the translated set")
    ap.add_argument("--checkpoint", default="default", help="translator checkpoint ('default': the built-in one)")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--workers", type=int, default=1, help="validate's worker processes (1: in this process)")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    ap.add_argument("--json", type=Path, default=None, help="write the settings, figures and samples here")
    ap.add_argument("--quick", action="store_true", help="12 frames of 64x48 one at a time, 2 passes, samples "
                                                         "every 0.01 s")
    args = ap.parse_args()
    if args.quick:  # one frame a batch and a fine sampling: the frames of a tiny set are written in a burst
        args.frames, args.size, args.passes, args.interval, args.batch = 12, "64x48", 2, 0.01, 1
    w, h = (int(v) for v in args.size.split("x"))
    sampler = Sampler(args.interval)
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        generate(SynthConfig(n=args.frames, width=w, height=h, mode="rgb", seed=0), d / "src", progress=False)
        sampler.start()
        translate = soak_translate(d / "src", d / "out", sampler, args)
        validate = soak_validate(d / "out", sampler, args)
        sampler.stop()
    result = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
              "settings": {k: getattr(args, k) for k in ("frames", "size", "passes", "checkpoint", "batch",
                                                          "workers", "interval", "quick")},
              "target_pct": TARGET, "translate": translate, "validate": validate, "samples": sampler.samples}
    report(result)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
