"""How far apart are two runs of the same usefulness trainings? Which interval covers the difference?

Two runs of ``polaraug eval-detection`` (the usefulness benchmark) with the same settings and seeds train the
same arms twice; where their inputs are the same (the real, test and oracle sets do not depend on the
translator), whatever separates the two runs' scores is the trainings' own randomness. This compares the
arms both runs scored, seed by seed, and for each polarized arm and its unpolarized control the difference
in each run with both of the benchmark's intervals: the Student-t over seeds (trainings vary) and the paired
bootstrap over test images (trained models held fixed). An interval that a rerun's difference falls outside
of does not cover the trainings' randomness.

Run (seconds; reads the saved scores, trains nothing)::

    .venv/bin/python benchmarks/usefulness_rerun.py --first docs/figures/usefulness_8.9deg \\
        --second docs/figures/usefulness --experiment mix_n25 --arms real,real_oracle,real_oracle-unpolarized \\
        --json docs/figures/usefulness_rerun.json

``--arms`` names the arms whose inputs the two runs share (score files ``ARM_sSEED.json`` and ``.npz``).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from polaraug.detect.imagestats import ImageStats, paired_bootstrap
from polaraug.detect.stats import paired_difference
from polaraug.io.atomic import write_text

UNPOLARIZED = "-unpolarized"


def seeds_of(folder: Path, arm: str) -> list[int]:
    """The seeds of ``arm`` scored in ``folder`` (files ``ARM_sN.json``), sorted."""
    return sorted(int(p.stem.rsplit("_s", 1)[1]) for p in folder.glob(f"{arm}_s*.json"))


def map50s(folder: Path, arm: str, seeds: list[int]) -> list[float]:
    """mAP50 of each seed's training of ``arm``."""
    return [float(json.loads((folder / f"{arm}_s{s}.json").read_text())["map50"]) for s in seeds]


def control_difference(folder: Path, arm: str, seeds: list[int], n_boot: int) -> dict:
    """``arm`` minus its unpolarized control in one run: the seeds' t interval and the test images' bootstrap.

    Returns:
        {"seeds": {"mean", "low", "high", "diffs", "n"}, "test_images": {"mean", "low", "high", ...}}.
    """
    control = arm + UNPOLARIZED
    stats = {a: [ImageStats.load(folder / f"{a}_s{s}.npz") for s in seeds] for a in (arm, control)}
    return {"seeds": paired_difference(map50s(folder, control, seeds), map50s(folder, arm, seeds)),
            "test_images": paired_bootstrap(stats[control], stats[arm], n_boot=n_boot)}


def inside(value: float, interval: dict) -> bool:
    """Whether ``value`` lies in ``interval``'s [low, high]."""
    return interval["low"] is not None and interval["low"] <= value <= interval["high"]


def compare_runs(first: Path, second: Path, arms: list[str], n_boot: int = 1000) -> dict:
    """Per arm: each run's per-seed mAP50 and their means; per polarized arm with a control in ``arms``: its
    difference in each run, with both intervals, and whether the other run's difference falls in each.

    Args:
        first, second: one experiment's score folders of the two runs (e.g. ``.../mix_n25``).
        arms: arm slugs both runs scored on the same inputs.
        n_boot: bootstrap resamples.

    Returns:
        {"seeds", "arms": {arm: {"first", "second", "mean_first", "mean_second"}}, "controls": {arm: {"first",
        "second" (each {"seeds", "test_images", "other_run_inside"}), "pooled" (both runs' differences' t)}}}.

    Raises:
        ValueError: an arm is missing from a run, or the runs scored it over different seeds.
    """
    seeds = None
    out: dict = {"arms": {}, "controls": {}}
    for arm in arms:
        s1, s2 = seeds_of(first, arm), seeds_of(second, arm)
        if not s1 or s1 != s2 or (seeds is not None and s1 != seeds):
            raise ValueError(f"arm {arm!r}: seeds {s1} in {first} and {s2} in {second}; the runs must share them")
        seeds = s1
        a, b = map50s(first, arm, seeds), map50s(second, arm, seeds)
        out["arms"][arm] = {"first": a, "second": b, "mean_first": statistics.fmean(a),
                            "mean_second": statistics.fmean(b)}
    out["seeds"] = seeds
    for arm in arms:
        if not arm.endswith(UNPOLARIZED) and arm + UNPOLARIZED in arms:
            runs = {name: control_difference(folder, arm, seeds, n_boot)
                    for name, folder in (("first", first), ("second", second))}
            for this, other in (("first", "second"), ("second", "first")):
                mean = runs[other]["seeds"]["mean"]
                runs[this]["other_run_inside"] = {k: inside(mean, runs[this][k]) for k in ("seeds", "test_images")}
            # both runs' trainings together: twice as many draws of the same experiment's differences
            pooled = runs["first"]["seeds"]["diffs"] + runs["second"]["seeds"]["diffs"]
            runs["pooled"] = {"seeds": paired_difference([0.0] * len(pooled), pooled)}
            out["controls"][arm] = runs
    return out


def lines(result: dict) -> list[str]:
    """A plain-text summary of :func:`compare_runs`."""
    rows = [f"seeds {result['seeds']}"]
    for arm, r in result["arms"].items():
        rows.append(f"{arm}: first {r['mean_first']:.3f} {[round(x, 3) for x in r['first']]}, "
                    f"second {r['mean_second']:.3f} {[round(x, 3) for x in r['second']]}")
    for arm, runs in result["controls"].items():
        t = runs["pooled"]["seeds"]
        rows.append(f"{arm} minus unpolarized, both runs' {t['n']} trainings: {t['mean']:+.3f} "
                    f"[{t['low']:+.3f}, {t['high']:+.3f}]")
        for name, r in ((k, runs[k]) for k in ("first", "second")):
            t, b = r["seeds"], r["test_images"]
            rows.append(f"{arm} minus unpolarized, {name} run: {t['mean']:+.3f} seeds [{t['low']:+.3f}, "
                        f"{t['high']:+.3f}] test images [{b['low']:+.3f}, {b['high']:+.3f}]; the other run's "
                        f"difference inside: seeds {r['other_run_inside']['seeds']}, "
                        f"test images {r['other_run_inside']['test_images']}")
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--first", type=Path, required=True, help="a usefulness score folder (--keep-scores)")
    p.add_argument("--second", type=Path, required=True, help="another run's score folder")
    p.add_argument("--experiment", default="mix_n25", help="the experiment subfolder to compare")
    p.add_argument("--arms", default="real,real_oracle,real_oracle-unpolarized",
                   help="comma-separated arm slugs whose inputs the two runs share")
    p.add_argument("--boot", type=int, default=1000, help="bootstrap resamples")
    p.add_argument("--json", type=Path, help="write the comparison here")
    args = p.parse_args(argv)
    result = compare_runs(args.first / args.experiment, args.second / args.experiment, args.arms.split(","),
                          args.boot)
    result["settings"] = {"first": str(args.first), "second": str(args.second), "experiment": args.experiment,
                          "boot": args.boot}
    print("\n".join(lines(result)))
    if args.json:
        write_text(args.json, json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
