"""Does a short run's validation score pick the seed that does best on a camera it never saw?

``train --candidates`` trains several seeds for ``--select-at`` steps, scores each on renders of the training
domains with a seed none trains on, and continues the best (:mod:`polaraug.translate.selection`). This checks
that choice against the translator curve's runs (``benchmarks/translator_curve.py``, run with
``--every`` = the selection step): per arm, each seed's checkpoint at ``--select-at`` steps is scored on the
validation renders exactly as ``train --candidates`` scores it, and set beside the same seed's scores on the
curve's test set (held-out scenes of the shifted domain through a camera no arm trains on) at that step and
at its last one. The test set never enters the choice.

Run (about a minute per checkpoint on 2 cores)::

    .venv/bin/python benchmarks/seed_selection.py --runs /tmp/curve_runs \\
        --curve docs/figures/translator_curve.json --arm fresh-plain-ema:0,1,4 --arm fresh-wide-ema:0,1 \\
        --json docs/figures/seed_selection.json

``--curve`` may be given several times (runs recorded in separate files). ``--quick``: two tiny candidate runs
trained here and scored on a few frames (the test suite runs it; numbers meaningless).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from polaraug.translate.rendered import RenderSpec
from polaraug.translate.selection import Selection, validation_score, validation_sets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from translator_curve import ARMS  # noqa: E402  (the arms' recipes: their rendering domains)


def curve_points(paths: list[Path]) -> dict[tuple[str, int], list[dict]]:
    """Every recorded checkpoint of the curve files: {(arm, seed): [{steps, scores, ...}]}."""
    points: dict[tuple[str, int], list[dict]] = {}
    for path in paths:
        for run in json.loads(path.read_text())["runs"]:
            points.setdefault((run["arm"], run["seed"]), []).extend(run["points"])
    return points


def test_at(points: list[dict], steps: int | None = None) -> dict | None:
    """The test scores at ``steps`` (None: the last recorded step) of one run, or None when not recorded."""
    if not points:
        return None
    at = max(p["steps"] for p in points) if steps is None else steps
    found = [p for p in points if p["steps"] == at]
    return {"steps": at, "aolp_error_deg": found[0]["scores"]["aolp_error_deg"],
            "dolp_mae": found[0]["scores"]["dolp_mae"]} if found else None


def judge_arm(arm: str, seeds: list[int], runs: Path, points: dict, selection: Selection, size: tuple[int, int],
              root: Path) -> dict:
    """Validation and test scores of each seed of ``arm``, and the seed the validation chooses."""
    select_at = selection.select_at
    spec = RenderSpec(width=size[0], height=size[1], domains=ARMS[arm].domains, workers=1)
    folders = validation_sets(spec, root / "-".join(spec.domains), seed=selection.validation_seed,
                              frames=selection.validation_frames)
    seeds_out = {}
    for seed in seeds:
        checkpoint = runs / f"{arm}_s{seed}" / "checkpoints" / f"step_{select_at:07d}.pt"
        own = points.get((arm, seed), [])
        seeds_out[str(seed)] = {"validation": validation_score(checkpoint, folders),
                                "test_at_selection": test_at(own, select_at), "test_last": test_at(own)}
        v = seeds_out[str(seed)]["validation"]["aolp_error_deg"]
        t = seeds_out[str(seed)]["test_last"]
        print(f"{arm} seed {seed}: validation AoLP {v:.1f} deg at {select_at} steps; test "
              + (f"{t['aolp_error_deg']:.1f} deg at {t['steps']} steps" if t else "not recorded"), flush=True)
    chosen = min(seeds_out, key=lambda s: seeds_out[s]["validation"]["aolp_error_deg"])
    # the test's verdict at the last step every compared seed reached (a seed trained only to select_at is
    # left out of it, and ranked at select_at below)
    recorded = {s: r["test_last"] for s, r in seeds_out.items() if r["test_last"] is not None}
    final = max((t["steps"] for t in recorded.values()), default=None)
    last = {s: t for s, t in recorded.items() if t["steps"] == final}
    best = min(last, key=lambda s: last[s]["aolp_error_deg"]) if last else None
    at_sel = {s: r["test_at_selection"]["aolp_error_deg"] for s, r in seeds_out.items() if r["test_at_selection"]}
    return {"domains": list(spec.domains), "seeds": seeds_out, "chosen": int(chosen),
            "best_on_test": None if best is None else int(best), "test_steps": final,
            "chose_the_best": None if best is None or chosen not in last else chosen == best,
            "rank_at_selection": {"validation": sorted(map(int, seeds_out),
                                                       key=lambda s: seeds_out[str(s)]["validation"]["aolp_error_deg"]),
                                  "test": sorted(map(int, at_sel), key=lambda s: at_sel[str(s)])}}


def validation_parser(description: str, quick: str) -> argparse.ArgumentParser:
    """The options every validation benchmark over the curve's runs takes: --runs, --curve, --validation-seed,
    --frames, --json and --quick (``quick``: what it does)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--runs", type=Path, help="the curve's run folders (ARM_sSEED/checkpoints/step_N.pt)")
    p.add_argument("--curve", type=Path, action="append", default=[], help="the curve's results JSON (repeatable)")
    p.add_argument("--validation-seed", type=int, default=3)
    p.add_argument("--frames", type=int, default=48, help="validation frames")
    p.add_argument("--json", type=Path)
    p.add_argument("--quick", action="store_true", help=quick)
    return p


def main() -> None:
    p = validation_parser(__doc__.splitlines()[0], "two tiny candidate runs trained here (smoke test)")
    p.add_argument("--arm", action="append", default=[], help="ARM:SEED,SEED,... (repeatable)")
    p.add_argument("--select-at", type=int, default=3000)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            args = quick_runs(args, Path(tmp))
        elif not args.runs or not args.arm:
            p.error("give --runs and at least one --arm (or --quick)")
        points = curve_points(args.curve)
        size = (64, 48) if args.quick else (192, 144)
        result = {"settings": {"select_at": args.select_at, "validation_seed": args.validation_seed,
                               "validation_frames": args.frames, "frame_size": list(size),
                               "curve": [str(c) for c in args.curve]}, "arms": {}}
        for spec in args.arm:
            arm, _, seeds = spec.partition(":")
            if arm not in ARMS:
                p.error(f"unknown arm {arm!r}; choose from {', '.join(ARMS)}")
            seeds = [int(s) for s in seeds.split(",")]
            selection = Selection(tuple(seeds), args.select_at, args.validation_seed, args.frames)
            result["arms"][arm] = judge_arm(arm, seeds, args.runs, points, selection, size, Path(tmp) / "validation")
    for arm, r in result["arms"].items():
        print(f"{arm}: validation chooses seed {r['chosen']}; best on the test at {r['test_steps']} steps: seed "
              f"{r['best_on_test']}; ranks at {args.select_at} steps, validation {r['rank_at_selection']['validation']}"
              f" test {r['rank_at_selection']['test']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")


def quick_runs(args: argparse.Namespace, root: Path) -> argparse.Namespace:
    """Two 2-step candidate runs of fresh-plain on tiny renders, as the curve keeps them (smoke test)."""
    from polaraug.translate.train import TrainingInputs, train_from_folders

    for seed in (0, 1):
        spec = RenderSpec(width=64, height=48, cache=2, refresh=1, domains=("default",), seed=seed, workers=1)
        train_from_folders(TrainingInputs(render=spec), root / f"fresh-plain_s{seed}", preset="cpu-small", seed=seed,
                           max_steps=2, checkpoint_every=1, sample_every=10**9, keep_checkpoints=True, progress=False)
    args.runs, args.arm, args.select_at, args.frames = root, ["fresh-plain:0,1"], 1, 2
    return args


if __name__ == "__main__":
    main()
