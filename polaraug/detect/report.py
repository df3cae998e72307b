"""eval-detection's report: ``report.md``, the console summary and the charts (mAP50 per arm with intervals
and paired differences, per weather, the ratio sweep, validation curves, per-class AP)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from polaraug.io.atomic import write_text

from .stats import MIN_BASELINE_MAP50, format_gain, t_quantile, verdict

REAL = "real"


def _pm(d: dict) -> str:
    return f"{d['mean']:.3f} ± {d['std']:.3f}"


def _ci(d: dict) -> str:
    """'+0.012 [-0.003, +0.027]' (no brackets without an interval)."""
    if d["low"] is None:
        return f"{d['mean']:+.3f}"
    return f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"


def _mean_ci(values: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % Student-t interval (0 for one value)."""
    m = statistics.fmean(values)
    if len(values) < 2:
        return m, 0.0
    return m, t_quantile(0.95, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, ax, path: Path, legend: bool = True) -> Path:
    """Legend, tight layout, write ``path``, free the figure."""
    import matplotlib.pyplot as plt

    if legend:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_arms(results: dict, path: Path) -> Path:
    """Left: mAP50 per arm (each seed a dot, mean with 95 % interval). Right: paired difference to ``real``
    per arm with its 95 % interval and the zero line."""
    plt = _plt()
    arms = results["arms"]
    names = list(arms)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 0.45 * len(names) + 1.8), sharey=True)
    for i, name in enumerate(names):
        runs = arms[name]["map50"]["runs"]
        m, h = _mean_ci(runs)
        ax.errorbar(m, i, xerr=h, fmt="o", color="C0", capsize=4)
        ax.scatter(runs, [i] * len(runs), color="C0", alpha=0.35, s=14)
        if "vs_real" in arms[name]:
            d = arms[name]["vs_real"]["map50"]
            err = [[d["mean"] - d["low"]], [d["high"] - d["mean"]]] if d["low"] is not None else None
            bx.errorbar(d["mean"], i, xerr=err, fmt="o", color="C1", capsize=4)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("mAP50 (dots: seeds; bar: 95 % interval of the mean)")
    bx.axvline(0, color="k", lw=0.8)
    bx.set_xlabel("mAP50 − real, paired by seed (95 % interval)")
    return _save(fig, ax, path, legend=False)


def _grouped_bars(arms: dict, key: str, path: Path, ylabel: str, *, rotate: bool = False) -> Path | None:
    """Bars of every arm's ``key`` (e.g. ``by_weather_map50``) per group, mean ± std over seeds."""
    groups = sorted({g for a in arms.values() for g in a[key]})
    if not groups:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(groups) + 2), 3.6))
    width = 0.8 / len(arms)
    for k, (name, arm) in enumerate(arms.items()):
        v = arm[key]
        x = [i + (k - (len(arms) - 1) / 2) * width for i in range(len(groups))]
        ax.bar(x, [v[g]["mean"] if g in v else 0 for g in groups], width,
               yerr=[v[g]["std"] if g in v else 0 for g in groups], label=name)
    ax.set_xticks(range(len(groups)), groups, rotation=30 if rotate else 0, ha="right" if rotate else "center")
    ax.set_ylabel(ylabel)
    return _save(fig, ax, path)


def plot_sweep(arms: dict, path: Path) -> Path | None:
    """mAP50 against extra frames per real frame, one line per source, ``real`` as a band (sweeps only)."""
    ratios = sorted({a["ratio"] for a in arms.values() if a["ratio"] is not None})
    if len(ratios) < 2:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    m, h = _mean_ci(arms[REAL]["map50"]["runs"])
    ax.axhspan(m - h, m + h, color="0.85")
    ax.axhline(m, color="k", lw=1, label="real (equal steps)")
    for source in dict.fromkeys(a["source"] for a in arms.values() if a["source"] is not None):
        pts = sorted((a["ratio"], *_mean_ci(a["map50"]["runs"])) for a in arms.values() if a["source"] == source)
        ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts], marker="o", capsize=3,
                    label=source)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("extra frames per real frame")
    ax.set_ylabel("mAP50 (mean, 95 % interval)")
    return _save(fig, ax, path)


def plot_curves(curves: dict[str, list[list[float]]], path: Path) -> Path | None:
    """Validation mAP50 per epoch (mean over seeds) of every validated arm: where training plateaus."""
    curves = {k: v for k, v in curves.items() if v and all(v)}
    if not curves:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for name, runs in curves.items():
        n = min(len(r) for r in runs)
        ax.plot(range(1, n + 1), [statistics.fmean(r[i] for r in runs) for i in range(n)], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation mAP50 (mean over seeds)")
    return _save(fig, ax, path)


def plot_per_class(arms: dict, path: Path) -> Path | None:
    """Per-class AP50 bars (mean ± std) of every arm."""
    return _grouped_bars(arms, "per_class_ap50", path, "AP50 (mean ± std over seeds)", rotate=True)


def report_lines(results: dict) -> list[str]:
    """The Markdown table: per arm its images per epoch, mAP50, mAP50-95, the paired difference to real with
    its interval and verdict, the share of the oracle gap closed, and per-weather mAP50."""
    arms = results["arms"]
    key = _group_key(arms)
    weathers = sorted({w for a in arms.values() for w in a[key]})
    head = ["arm", "images/epoch", "mAP50", "mAP50-95", "mAP50 − real [95 % CI]", "verdict", "oracle gap closed",
            *[f"mAP50 {w}" for w in weathers]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, arm in arms.items():
        vs = arm.get("vs_real")
        gap = arm.get("gap_closed")
        cells = [name, str(arm["images_per_epoch"]), _pm(arm["map50"]), _pm(arm["map50_95"]),
                 _ci(vs["map50"]) if vs else "–", verdict(vs["map50"]) if vs else "–",
                 f"{100 * gap:.0f} %" if gap is not None else "–"]
        cells += [_pm(arm[key][w]) if w in arm[key] else "–" for w in weathers]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _group_key(arms: dict) -> str:
    """Per-condition scores when the results have them (night apart from the weathers), else per weather."""
    return "by_condition_map50" if any(a.get("by_condition_map50") for a in arms.values()) else "by_weather_map50"


def bootstrap_lines(results: dict) -> list[str]:
    """A Markdown table of the paired bootstrap over test images: every comparison with real and every
    control, overall and per condition (``mean [2.5 %, 97.5 %]`` of the seed-averaged difference)."""
    rows = {f"{n} − real": a["vs_real"]["bootstrap"] for n, a in results["arms"].items()
            if "bootstrap" in a.get("vs_real", {})}
    rows |= {f"{c['of']} − {n}": c["bootstrap"] for n, c in results.get("controls", {}).items() if "bootstrap" in c}
    if not rows:
        return []
    cols = sorted({g for r in rows.values() for g in r["by_condition_map50"]})
    lines = ["| mAP50 difference, bootstrap over test images | all | " + " | ".join(cols) + " |",
             "|" + "---|" * (len(cols) + 2)]
    lines += ["| " + " | ".join([name, _ci(r["map50"]), *[_ci(r["by_condition_map50"][c])
                                                           if c in r["by_condition_map50"] else "–" for c in cols]])
              + " |" for name, r in rows.items()]
    return lines


def difference_lines(results: dict, key: str, title: str) -> list[str]:
    """A Markdown table of the paired differences to real per weather (``by_weather_map50``) or per class
    (``per_class_ap50``): one row per compared arm, ``mean [95 % interval]`` per column."""
    rows = {n: a["vs_real"][key] for n, a in results["arms"].items() if "vs_real" in a}
    cols = sorted({c for r in rows.values() for c in r})
    if not rows or not cols:
        return []
    lines = [f"| {title} − real | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 1)]
    lines += ["| " + " | ".join([name, *[_ci(r[c]) if c in r else "–" for c in cols]]) + " |"
              for name, r in rows.items()]
    return lines


def summary_lines(results: dict) -> list[str]:
    """One console line per compared arm: its gain over real with the interval, never a relative gain over a
    baseline too weak to carry one; the control comparisons after."""
    arms = results["arms"]
    base = arms[REAL]["map50"]["mean"]
    lines = [f"real: mAP50 {_pm(arms[REAL]['map50'])}"]
    if base < MIN_BASELINE_MAP50:
        lines.append(f"  the real baseline (mAP50 {base:.3f}) is too weak to judge gains: train longer or larger")
    for name, arm in arms.items():
        if "vs_real" in arm:
            gap = arm.get("gap_closed")
            gap_txt = f"; closes {100 * gap:.0f} % of the oracle gap" if gap is not None else ""
            lines.append(f"{name}: mAP50 {_pm(arm['map50'])}, vs real {format_gain(base, arm['vs_real']['map50'])}"
                         f" -> {verdict(arm['vs_real']['map50'])}{gap_txt}")
    for name, c in results.get("controls", {}).items():
        lines.append(f"{c['of']} − its control {name} (mAP50): {_ci(c['map50'])} -> {verdict(c['map50'])} "
                     "(> 0: the polarization helps beyond the intensities)")
    return lines


def _budget_text(s: dict) -> str:
    if s["budget"] == "equal-steps":
        return "equal optimizer steps (every arm trains on the same number of images per epoch)"
    return "**equal epochs** (arms with more images take more optimizer steps: not a fair comparison of data)"


def _plateau(arms: dict, curves: dict[str, list[list[float]]]) -> list[str]:
    """The line that says whether the real arm's training reached a plateau on its validation split."""
    runs = curves.get(REAL) or []
    if not runs or not all(runs):
        return ["No validation split: the scored weights are the last epoch's, and nothing shows whether "
                "training reached a plateau (give --real-val)."]
    best = [max(range(len(r)), key=r.__getitem__) + 1 for r in runs]
    return [f"Plateau: the real arm's validation mAP50 peaked at epoch {best} of {[len(r) for r in runs]} "
            "(per seed); each arm is scored with its best validation epoch."]


def write_report(results: dict, out: Path) -> Path:
    """report.md and its charts in ``out``; returns the report's path."""
    arms, s = results["arms"], results["settings"]
    curves = results.get("val_curves", {})
    charts = [("mAP50 per arm and paired difference to real", plot_arms(results, out / "report_map50.png")),
              ("per condition" if _group_key(arms).startswith("by_condition") else "per weather",
               _grouped_bars(arms, _group_key(arms), out / "report_weather.png", "mAP50 (mean ± std over seeds)")),
              ("ratio sweep", plot_sweep(arms, out / "report_sweep.png")),
              ("validation curves", plot_curves(curves, out / "report_curves.png")),
              ("per-class AP50", plot_per_class(arms, out / "report_ap.png"))]
    lines = ["# Detection: does generated polarimetric data help?", "",
             f"Encoding `{s['encoding']}`, protocol `{s['protocol']}`, model `{s['model']}`, {s['epochs']} epochs at "
             f"{_budget_text(s)}, {s['imgsz']} px, batch {s['batch']}, seeds {s['seeds']}, classes "
             f"{s['classes'] or 'all'}. mean ± std over seeds; intervals are 95 % Student-t intervals of the "
             "per-seed difference to `real` (seeds paired).", "", *report_lines(results), "",
             *[f"- {line}" for line in summary_lines(results)], "", *_plateau(arms, curves), "",
             *difference_lines(results, _group_key(arms), "mAP50 per condition" if _group_key(arms).startswith(
                 "by_condition") else "mAP50 per weather"), "",
             *bootstrap_lines(results), "",
             *difference_lines(results, "per_class_ap50", "AP50 per class"), ""]
    if "rgb" in arms:
        lines += ["The `rgb` arm is a reference on its own test set (the same scenes in RGB when the sets are "
                  "paired), with ultralytics' default augmentation; it is not compared with `real`.", ""]
    if results.get("augmentation"):
        lines += ["Augmentation in the polarimetric arms (ultralytics' pipeline as rewritten by polaraug):", "",
                  *[f"- {a}" for a in results["augmentation"]], ""]
    lines += [*[f"![{title}]({p.name})\n" for title, p in charts if p is not None],
              f"Settings: `{json.dumps(s)}`", ""]
    return write_text(out / "report.md", "\n".join(lines))
