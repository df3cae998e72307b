"""The usefulness benchmark's results: ``usefulness.json`` (every experiment's eval-detection results by
real-set size), the console summary, and the charts (learning curve; per condition at the smallest size;
what polarization itself adds)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from polaraug.io.atomic import write_text
from polaraug.translate.builtin import translator_name

from .report import _mean_ci, _plt, _save
from .stats import verdict

if TYPE_CHECKING:
    from .usefulness import BenchmarkData, Experiment, UsefulnessConfig

CONDITIONS = ("clear", "overcast", "foggy", "rainy", "night")
ARMS = ("real", "real+translated", "real+oracle", "real+translated-unpolarized", "real+oracle-unpolarized")
LABELS = {"real": "real alone", "real+translated": "+ translations", "real+oracle": "+ oracle (true twins)",
          "real+translated-unpolarized": "+ translations, unpolarized",
          "real+oracle-unpolarized": "+ oracle, unpolarized"}


def _arm_name(name: str) -> str:
    """eval-detection names a single-ratio arm without '@ratio'; drop it if a sweep added one."""
    return name.split("@")[0]


def assemble(cfg: UsefulnessConfig, runs: list[Experiment], results: dict[str, dict], digests: dict[str, str],
             data: BenchmarkData) -> dict:
    """``usefulness.json``: settings, input digests, and each experiment's results by protocol and size."""
    by_protocol: dict[str, dict[str, dict]] = {}
    for exp in runs:
        if exp.name in results:
            by_protocol.setdefault(exp.protocol, {})[str(exp.size)] = results[exp.name]
    summary = {"settings": {**cfg.to_dict(), "translator": translator_name(data.checkpoint)}, "inputs": digests,
               "experiments": {e.name: e.name in results for e in runs},  # finished so far
               "n_real": by_protocol.get("mix", {})}
    for protocol, sizes in by_protocol.items():
        if protocol != "mix":
            summary[protocol.replace("-", "_")] = {"n_real": sizes}
    summary["seconds"] = measured_time(results.values())
    summary["summary"] = summary_lines(summary)
    return summary


def measured_time(results) -> dict:
    """The trainings' recorded wall-clock time summed over experiments (eval-detection's ``seconds``).

    Args:
        results: eval-detection results of each experiment.

    Returns:
        {"total": seconds, "trainings": how many recorded their time, "of": trainings scored}. A
        pretrain-finetune arm's two trainings count as one, and the real arm it shares with mix is counted
        in each experiment it is scored in.
    """
    parts = [r.get("seconds", {}) for r in results]
    return {"total": round(sum(p.get("total", 0.0) for p in parts), 1),
            "trainings": sum(p.get("trainings", 0) for p in parts), "of": sum(p.get("of", 0) for p in parts)}


def _fmt(d: dict | None) -> str:
    if d is None:
        return "–"
    if d.get("low") is None:
        return f"{d['mean']:+.3f}"
    return f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"


def summary_lines(summary: dict) -> list[str]:
    """The console summary: per size, each arm's mAP50 and its difference to real (Student-t over seeds and
    bootstrap over test images), the share of the oracle gap closed, and what polarization adds."""
    lines = []
    for size, res in summary["n_real"].items():
        arms = {_arm_name(k): v for k, v in res["arms"].items()}
        n = len(arms["real"]["map50"]["runs"])
        lines.append(f"{size} real frames ({n} seeds): real alone mAP50 {arms['real']['map50']['mean']:.3f}")
        for name in ARMS[1:]:
            if name not in arms or "vs_real" not in arms[name]:
                continue
            a = arms[name]
            boot = a["vs_real"].get("bootstrap", {}).get("map50")
            gap = a.get("gap_closed")
            lines.append(f"  {LABELS[name]}: {a['map50']['mean']:.3f}, vs real {_fmt(a['vs_real']['map50'])} "
                         f"(seeds) {_fmt(boot)} (test images) -> {verdict(a['vs_real']['map50'])}"
                         + (f"; closes {100 * gap:.0f} % of the oracle gap" if gap is not None else ""))
        for c in res.get("controls", {}).values():
            boot = c.get("bootstrap", {}).get("map50")
            lines.append(f"  polarization: {LABELS.get(_arm_name(c['of']), c['of'])} minus unpolarized "
                         f"{_fmt(c['map50'])} (seeds) {_fmt(boot)} (test images) -> {verdict(c['map50'])}")
    t = summary.get("seconds")
    if t and t["trainings"]:
        lines.append(f"measured: {t['total'] / 60:.0f} min of training and scoring over the {t['trainings']} of "
                     f"{t['of']} trainings that recorded their time")
    for protocol in ("pretrain_finetune",):
        for size, res in summary.get(protocol, {}).get("n_real", {}).items():
            arms = {_arm_name(k): v for k, v in res["arms"].items()}
            lines.append(f"pretrain on added frames, fine-tune on {size} real:")
            for name in ARMS[1:]:
                if name in arms and "vs_real" in arms[name]:
                    lines.append(f"  {LABELS[name]}: {arms[name]['map50']['mean']:.3f}, vs real "
                                 f"{_fmt(arms[name]['vs_real']['map50'])} -> {verdict(arms[name]['vs_real']['map50'])}")
    return lines


def plot_curve(summary: dict, path: Path) -> Path | None:
    """mAP50 against real frames per training, one line per arm (mean and 95 % interval over seeds)."""
    sizes = sorted(summary["n_real"], key=int)
    if not sizes:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for k, name in enumerate(ARMS):
        pts = []
        for s in sizes:
            arms = {_arm_name(a): v for a, v in summary["n_real"][s]["arms"].items()}
            if name in arms:
                pts.append((int(s), *_mean_ci(arms[name]["map50"]["runs"])))
        if pts:
            ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts], marker="o", capsize=3,
                        label=LABELS[name], color=f"C{k}", ls="-" if "unpolarized" not in name else "--")
    ax.set_xscale("log", base=2)
    ax.set_xticks([int(s) for s in sizes], sizes)
    ax.set_xlabel("real (clear daytime) frames per training")
    ax.set_ylabel("mAP50 on the wide test set (mean, 95 % interval)")
    return _save(fig, ax, path)


def plot_conditions(summary: dict, path: Path) -> Path | None:
    """At the smallest size: mAP50 per condition of every arm (mean ± std over seeds)."""
    if not summary["n_real"]:
        return None
    smallest = min(summary["n_real"], key=int)
    arms = {_arm_name(a): v for a, v in summary["n_real"][smallest]["arms"].items()}
    conds = [c for c in CONDITIONS if any(c in a["by_condition_map50"] for a in arms.values())]
    if not conds:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    names = [n for n in ARMS if n in arms]
    width = 0.8 / len(names)
    for k, name in enumerate(names):
        v = arms[name]["by_condition_map50"]
        x = [i + (k - (len(names) - 1) / 2) * width for i in range(len(conds))]
        ax.bar(x, [v[c]["mean"] if c in v else 0 for c in conds], width,
               yerr=[v[c]["std"] if c in v else 0 for c in conds], label=LABELS[name], color=f"C{k}",
               hatch="//" if "unpolarized" in name else None)
    ax.set_xticks(range(len(conds)), conds)
    ax.set_ylabel(f"mAP50, {smallest} real frames (mean ± std)")
    return _save(fig, ax, path)


def plot_polarization(summary: dict, path: Path) -> Path | None:
    """What polarization adds at the smallest size: arm minus its unpolarized control, overall and per
    condition, with the bootstrap interval over test images (bars) and the seeds' Student-t interval (thin)."""
    if not summary["n_real"]:
        return None
    smallest = min(summary["n_real"], key=int)
    controls = summary["n_real"][smallest].get("controls", {})
    if not controls:
        return None
    plt = _plt()
    groups = ["all", *CONDITIONS]
    fig, ax = plt.subplots(figsize=(8, 3.8))
    width = 0.8 / len(controls)
    for k, c in enumerate(controls.values()):
        for i, g in enumerate(groups):
            seeds = c["map50"] if g == "all" else c["by_condition_map50"].get(g)
            boot = c.get("bootstrap", {})
            boot = boot.get("map50") if g == "all" else boot.get("by_condition_map50", {}).get(g)
            if seeds is None:
                continue
            x = i + (k - (len(controls) - 1) / 2) * width
            if boot is not None:
                ax.errorbar(x, boot["mean"], yerr=[[boot["mean"] - boot["low"]], [boot["high"] - boot["mean"]]],
                            fmt="o", color=f"C{k}", capsize=5, lw=2, label=None if i else LABELS[_arm_name(c["of"])])
            if seeds.get("low") is not None:
                ax.errorbar(x + 0.04, seeds["mean"], yerr=[[seeds["mean"] - seeds["low"]],
                                                           [seeds["high"] - seeds["mean"]]],
                            fmt="none", color=f"C{k}", capsize=2, lw=0.8, alpha=0.6)
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("mAP50: polarized − unpolarized")
    ax.set_title(f"{smallest} real frames; thick: 95 % bootstrap over test images, thin: over seeds", fontsize=8)
    return _save(fig, ax, path)


def write_charts(summary: dict, out: Path) -> list[Path]:
    """The three charts in ``out``; returns the paths written."""
    charts = [plot_curve(summary, out / "usefulness_curve.png"),
              plot_conditions(summary, out / "usefulness_conditions.png"),
              plot_polarization(summary, out / "usefulness_polarization.png")]
    return [c for c in charts if c is not None]


def _pm(d: dict) -> str:
    return f"{d['mean']:.3f} ± {d['std']:.3f}"


def arm_table(res: dict) -> list[str]:
    """One experiment's arms: mAP50, the difference to real over seeds and over test images, the verdict, the
    oracle gap closed, and mAP50 per condition."""
    arms = {_arm_name(k): v for k, v in res["arms"].items()}
    conds = [c for c in CONDITIONS if any(c in a["by_condition_map50"] for a in arms.values())]
    head = ["arm", "images/epoch", "mAP50", "− real (seeds, 95 % t)", "− real (test images, 95 % bootstrap)",
            "verdict", "oracle gap closed", *conds]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in ARMS:
        if name not in arms:
            continue
        a = arms[name]
        vs = a.get("vs_real")
        boot = vs.get("bootstrap", {}).get("map50") if vs else None
        gap = a.get("gap_closed")
        cells = [LABELS[name], str(a["images_per_epoch"]), _pm(a["map50"]), _fmt(vs["map50"]) if vs else "–",
                 _fmt(boot), verdict(vs["map50"]) if vs else "–", f"{100 * gap:.0f} %" if gap is not None else "–",
                 *[_pm(a["by_condition_map50"][c]) if c in a["by_condition_map50"] else "–" for c in conds]]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def difference_table(res: dict, polarization: bool) -> list[str]:
    """Differences per condition with both intervals: each arm minus real, or (``polarization``) each arm
    minus its unpolarized control."""
    rows = ({f"{LABELS[_arm_name(c['of'])]} − unpolarized": c for c in res.get("controls", {}).values()}
            if polarization else
            {f"{LABELS[_arm_name(n)]} − real": a["vs_real"] for n, a in res["arms"].items() if "vs_real" in a})
    if not rows:
        return []
    conds = ["all", *[c for c in CONDITIONS if any(c in r["by_condition_map50"] for r in rows.values())]]
    lines = ["| mAP50 difference | " + " | ".join(conds) + " |", "|" + "---|" * (len(conds) + 1)]
    for name, r in rows.items():
        boot = r.get("bootstrap", {})
        cells = []
        for c in conds:
            t = r["map50"] if c == "all" else r["by_condition_map50"].get(c)
            b = boot.get("map50") if c == "all" else boot.get("by_condition_map50", {}).get(c)
            cells.append("–" if t is None else f"{_fmt(t)} / {_fmt(b)}" if b else _fmt(t))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def class_table(res: dict) -> list[str]:
    """AP50 per class of each arm minus its unpolarized control (seeds' interval)."""
    rows = {LABELS[_arm_name(c["of"])]: c["per_class_ap50"] for c in res.get("controls", {}).values()}
    classes = sorted({k for r in rows.values() for k in r})
    if not rows or not classes:
        return []
    lines = ["| AP50, polarized − unpolarized | " + " | ".join(classes) + " |", "|" + "---|" * (len(classes) + 1)]
    lines += [f"| {n} | " + " | ".join(_fmt(r[k]) if k in r else "–" for k in classes) + " |" for n, r in rows.items()]
    return lines


def write_markdown(summary: dict, out: Path) -> Path:
    """``usefulness.md``: every experiment's tables (docs/detection.md quotes them)."""
    lines = ["# Usefulness benchmark", ""]
    for size, res in sorted(summary["n_real"].items(), key=lambda kv: int(kv[0])):
        n = len(res["arms"]["real"]["map50"]["runs"])
        lines += [f"## mix, {size} real frames ({n} seeds)", "", *arm_table(res), "",
                  "Differences per condition: seeds' 95 % t interval / test images' 95 % bootstrap. The first "
                  "covers the trainings' randomness; the second holds the trained models fixed, so a rerun of "
                  "the same trainings can fall outside it.", "",
                  *difference_table(res, False), "", *difference_table(res, True), "", *class_table(res), ""]
    for size, res in sorted(summary.get("pretrain_finetune", {}).get("n_real", {}).items(), key=lambda kv: int(kv[0])):
        lines += [f"## pretrain on added frames, fine-tune on {size} real frames", "", *arm_table(res), ""]
    lines += ["## Summary", "", *[f"    {line}" for line in summary["summary"]], ""]
    return write_text(out / "usefulness.md", "\n".join(lines))
