"""Fuzz every reader and file format: N mutated files spread over the readers (``polaraug/testing``), each
classified as ok, clean error (polaraug's one-line error naming the file), traceback, partial output or bad
result. Counts are of this one run; the goal is 0 tracebacks, partial outputs and bad results.

    .venv/bin/python benchmarks/fuzz.py [--n 10000 --seed 0 --json docs/figures/fuzz.json]
    .venv/bin/python benchmarks/fuzz.py --targets "kitti,image tiff" --n 2000

Exit status 1 when any case is unacceptable (the first few of each target are listed, with the mutation,
so that ``--seed`` and the target reproduce them).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

from polaraug.testing.fuzz import ACCEPTABLE, FUZZ_MAX_PIXELS, OUTCOMES, fuzz
from polaraug.testing.targets import TARGETS, target_named

QUICK_N = 60  # 3 cases per target: a smoke test of the script, in a few seconds


def _table(summaries: dict, seconds: float) -> str:
    head = f"{'target':<20} {'inputs':>7} " + " ".join(f"{o:>14}" for o in OUTCOMES) + f" {'s':>6}"
    rows = [head, "-" * len(head)]
    for s in summaries.values():
        rows.append(f"{s.target:<20} {s.inputs:>7} " + " ".join(f"{s.outcomes[o]:>14}" for o in OUTCOMES)
                    + f" {s.seconds:>6.1f}")
    total = {o: sum(s.outcomes[o] for s in summaries.values()) for o in OUTCOMES}
    rows.append(f"{'all':<20} {sum(s.inputs for s in summaries.values()):>7} "
                + " ".join(f"{total[o]:>14}" for o in OUTCOMES) + f" {seconds:>6.1f}")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="mutated inputs in all, spread evenly over the targets")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--targets", default="", help="comma-separated target names (default: all)")
    ap.add_argument("--json", type=Path, default=None, help="write the summary here")
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_N} inputs (a smoke test of the script)")
    ap.add_argument("--show-stderr", action="store_true", help="keep what C decoders print about broken files")
    args = ap.parse_args()
    n = QUICK_N if args.quick else args.n
    targets = [target_named(t.strip()) for t in args.targets.split(",") if t.strip()] or list(TARGETS)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as work:
        summaries = fuzz(targets, n, args.seed, work, stderr_off=not args.show_stderr)
    seconds = time.perf_counter() - start
    print(f"fuzz: {n} inputs over {len(targets)} targets, seed {args.seed}, {seconds:.1f} s")
    print(_table(summaries, seconds))
    bad = [f for s in summaries.values() for f in s.failures]
    for f in bad[:40]:
        print(f"  {f['outcome']}: {f['target']} / {f['file']} / {f['mutation']}: {f['detail'][:200]}")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        doc = {"inputs": n, "seed": args.seed, "seconds": round(seconds, 1), "python": platform.python_version(),
               "max_pixels_while_fuzzing": FUZZ_MAX_PIXELS, "outcomes": list(OUTCOMES),
               "targets": {s.target: {"inputs": s.inputs, "outcomes": s.outcomes, "seconds": round(s.seconds, 2),
                                      "failures": s.failures} for s in summaries.values()}}
        args.json.write_text(json.dumps(doc, indent=2) + "\n")
    unacceptable = sum(v for s in summaries.values() for o, v in s.outcomes.items() if o not in ACCEPTABLE)
    print(f"unacceptable outcomes: {unacceptable}")
    return 1 if unacceptable else 0


if __name__ == "__main__":
    sys.exit(main())
