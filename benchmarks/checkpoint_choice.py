"""Which of a long run's checkpoints to ship, chosen without the test set.

A translator curve (``benchmarks/translator_curve.py``) keeps a checkpoint every few thousand steps and scores
each on its test set (held-out scenes of the shifted domain through a camera no arm trains on). Picking the
checkpoint with the lowest test score would tune on the test set. This scores the same checkpoints on
validation renders of the training domains (the seed ``train --candidates`` validates on, which no run trains
on), exactly as the seed selection does, names the checkpoint the validation picks and sets every
checkpoint's test score beside it.

Run (about 30 s per checkpoint on 2 cores)::

    .venv/bin/python benchmarks/checkpoint_choice.py --runs /tmp/curve_runs \\
        --curve docs/figures/translator_curve.json --run fresh-plain-ema:0 --run fresh-plain-ema-decay:0 \\
        --from-step 12000 --json docs/figures/checkpoint_choice.json

``--quick``: a tiny run trained here and scored on a few frames (the test suite runs it; numbers meaningless).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from polaraug.errors import ConfigError
from polaraug.translate.rendered import RenderSpec
from polaraug.translate.selection import validation_score, validation_sets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from seed_selection import curve_points, validation_parser  # noqa: E402  (the curve's test scores; options)
from translator_curve import ARMS  # noqa: E402  (the arms' recipes: their rendering domains)


def judge_run(arm: str, seed: int, runs: Path, points: dict, validation: tuple[int, int], size: tuple[int, int],
              root: Path, from_step: int) -> dict:
    """Validation and test scores of every kept checkpoint of one run from ``from_step`` on.

    Args:
        validation: (seed, frames) of the validation renders.

    Returns:
        {"checkpoints": {steps: {"validation": ..., "test": {...} or None}}, "chosen": steps}.
    """
    spec = RenderSpec(width=size[0], height=size[1], domains=ARMS[arm].domains, workers=1)
    folders = validation_sets(spec, root / "-".join(spec.domains), seed=validation[0], frames=validation[1])
    tests = {p["steps"]: p["scores"] for p in points.get((arm, seed), [])}
    out = {}
    for ckpt in sorted((runs / f"{arm}_s{seed}" / "checkpoints").glob("step_*.pt")):
        steps = int(ckpt.stem.split("_")[1])
        if steps < from_step:
            continue
        test = tests.get(steps)
        out[steps] = {"validation": validation_score(ckpt, folders),
                      "test": None if test is None else {"aolp_error_deg": test["aolp_error_deg"],
                                                         "dolp_mae": test["dolp_mae"]}}
        v = out[steps]["validation"]["aolp_error_deg"]
        print(f"{arm} seed {seed} step {steps}: validation AoLP {v:.2f} deg; test "
              + (f"{test['aolp_error_deg']:.2f} deg" if test else "not recorded"), flush=True)
    if not out:
        raise SystemExit(f"{runs / f'{arm}_s{seed}'}: no kept checkpoint at or after step {from_step}")
    chosen = min(out, key=lambda k: out[k]["validation"]["aolp_error_deg"])
    return {"checkpoints": out, "chosen": chosen}


def main() -> None:
    p = validation_parser(__doc__.splitlines()[0], "a tiny run trained here (smoke test)")
    p.add_argument("--run", action="append", default=[], help="ARM:SEED (repeatable)")
    p.add_argument("--from-step", type=int, default=0, help="score checkpoints from this step on")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.quick:
            args = quick_run(args, Path(tmp))
        elif not args.runs or not args.run:
            p.error("give --runs and at least one --run (or --quick)")
        points = curve_points(args.curve)
        size = (64, 48) if args.quick else (192, 144)
        result = {"settings": {"validation_seed": args.validation_seed, "validation_frames": args.frames,
                               "frame_size": list(size), "from_step": args.from_step,
                               "curve": [str(c) for c in args.curve]}, "runs": {}}
        for spec in args.run:
            arm, _, seed = spec.partition(":")
            if arm not in ARMS or not seed.isdigit():
                p.error(f"--run {spec!r}: give ARM:SEED with ARM one of {', '.join(ARMS)}")
            try:
                check_judgeable(int(seed), args.validation_seed)
            except ConfigError as e:
                p.error(f"--run {spec}: {e}")
            result["runs"][spec] = judge_run(arm, int(seed), args.runs, points, (args.validation_seed, args.frames),
                                             size, Path(tmp) / "validation", args.from_step)
    for spec, r in result["runs"].items():
        print(f"{spec}: validation chooses step {r['chosen']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")


def check_judgeable(seed: int, validation_seed: int) -> None:
    """Refuse to judge a run on the renders it trained on.

    Raises:
        ConfigError: the run's seed is the validation seed.
    """
    if seed == validation_seed:
        raise ConfigError(f"seed {seed} is the validation seed: the run trained on the renders it would be "
                          "judged on (give another --validation-seed)")


def quick_run(args: argparse.Namespace, root: Path) -> argparse.Namespace:
    """A 2-step run of fresh-plain on tiny renders, keeping both checkpoints (smoke test)."""
    from polaraug.translate.train import TrainingInputs, train_from_folders

    spec = RenderSpec(width=64, height=48, cache=2, refresh=1, domains=("default",), seed=0, workers=1)
    train_from_folders(TrainingInputs(render=spec), root / "fresh-plain_s0", preset="cpu-small", seed=0,
                       max_steps=2, checkpoint_every=1, sample_every=10**9, keep_checkpoints=True, progress=False)
    args.runs, args.run, args.frames = root, ["fresh-plain:0"], 2
    return args


if __name__ == "__main__":
    main()
