"""Benchmark: Stokes + DoLP + AoLP + inadmissible fraction on one 5-megapixel frame, polaraug vs polanalyser.

Both run in this process on the same float32 intensities, interleaved, and the script prints the ratio
of median times (polanalyser / polaraug) and how closely the results agree. polanalyser is an optional
peer: ``pip install -e ".[bench]"``.

    .venv/bin/python benchmarks/physics.py [--height 2048 --width 2448 --repeats 9]

``--quick``: a 96x64 frame, 2 repeats, a smoke test the suite runs (its ratio means nothing).

Agreement is reported as max |ours - theirs| / max |theirs| per map (relative to the map's scale); AoLP
differences are taken modulo π and only where DoLP > 1e-3 (AoLP is undefined for unpolarized light).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from polaraug.physics import analyze, camera_matrix, intensities_from_stokes
from polaraug.synth import polarized_test_pattern


def make_frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Intensities (H, W, 4) float32: the polarized test pattern seen by an ideal camera, plus sensor noise.

    The top tenth is fully polarized light (DoLP = 1), where noise makes about half the pixels
    inadmissible, so the inadmissible fractions compared below are not trivially zero.
    """
    rng = np.random.default_rng(seed)
    s = polarized_test_pattern(h, w)
    band = s[: h // 10]
    band[..., 1:] = band[..., :1] * np.stack([np.cos(0.01 * np.arange(w)), np.sin(0.01 * np.arange(w))], -1)
    y = intensities_from_stokes(s, camera_matrix())
    y = y + rng.normal(0, 0.01, y.shape).astype(np.float32)
    return np.clip(y, 0, 1).astype(np.float32)


def run_polanalyser(pa, planes: list[np.ndarray]):
    s = pa.calcStokes(planes, np.deg2rad([0, 45, 90, 135]))
    d = pa.cvtStokesToDoLP(s)
    a = pa.cvtStokesToAoLP(s)
    frac = float(np.mean(np.sqrt(s[..., 1] ** 2 + s[..., 2] ** 2) - s[..., 0] > 1e-6))
    return s, d, a, frac


def run_polaraug(y: np.ndarray, a_mat: np.ndarray, out=None):
    m = analyze(y, a_mat, out=out)
    return m.stokes, m.dolp, m.aolp, m.inadmissible_fraction


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--height", type=int, default=2048)
    ap.add_argument("--width", type=int, default=2448)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--quick", action="store_true", help="a 96x64 frame, 2 repeats")
    args = ap.parse_args()
    if args.quick:
        args.height, args.width, args.repeats = 64, 96, 2
    try:
        import polanalyser as pa
    except ImportError:
        print("polanalyser is not installed: pip install -e '.[bench]'", file=sys.stderr)
        return 2

    y = make_frame(args.height, args.width)
    planes = [np.ascontiguousarray(y[..., i]) for i in range(4)]  # polanalyser's input: a list of images
    a_mat = camera_matrix()
    reused = analyze(y, a_mat)  # output buffers a validator loop over same-size frames would reuse
    fns = {
        "polanalyser": lambda: run_polanalyser(pa, planes),
        "polaraug": lambda: run_polaraug(y, a_mat),
        "polaraug-out": lambda: run_polaraug(y, a_mat, out=reused),
    }
    times: dict[str, list[float]] = {k: [] for k in fns}
    results = {k: f() for k, f in fns.items()}  # warm-up, and the results compared below
    for _ in range(args.repeats):
        for k, f in fns.items():
            t0 = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t0)

    med = {k: statistics.median(v) for k, v in times.items()}
    mp = args.height * args.width / 1e6
    print(f"frame {args.width}x{args.height} ({mp:.1f} MP), float32, {args.repeats} interleaved repeats")
    for k in fns:
        print(f"  {k:<13} median {1e3 * med[k]:7.1f} ms   min {1e3 * min(times[k]):7.1f} ms")
    print(f"speed-up polaraug vs polanalyser (median): {med['polanalyser'] / med['polaraug']:.2f}x "
          f"(fresh outputs), {med['polanalyser'] / med['polaraug-out']:.2f}x (outputs reused, analyze(out=...))")

    (s_b, d_b, a_b, f_b), (s_o, d_o, a_o, f_o) = results["polanalyser"], results["polaraug"]
    valid = s_b[..., 0] > 1e-3
    err_s = np.abs(s_o - s_b).max() / np.abs(s_b).max()
    err_d = np.abs(d_o - d_b)[valid].max() / np.abs(d_b[valid]).max()
    pol = valid & (d_b > 1e-3)
    da = np.abs((a_o - a_b + np.pi / 2) % np.pi - np.pi / 2)[pol]
    err_a = da.max() / np.pi
    worst = max(err_s, err_d, err_a)
    print(f"agreement (max |diff| / max |ref|): stokes {err_s:.2e}, dolp {err_d:.2e}, aolp {err_a:.2e}; "
          f"inadmissible fraction {f_o:.6f} vs {f_b:.6f}")
    print(f"results agree to 1e-5 relative: {'yes' if worst <= 1e-5 and f_o == f_b else 'no'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
