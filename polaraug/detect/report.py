"""eval-detection's Markdown report (``report.md``) and per-class AP bar chart (``report_ap.png``)."""

from __future__ import annotations

import json
from pathlib import Path

from polaraug.io.atomic import write_text


def _pm(d: dict) -> str:
    return f"{d['mean']:.3f} ± {d['std']:.3f}"


def format_relative(g: dict) -> str:
    """A gain's relative part as '+12.3 %' (n/a when the baseline is 0)."""
    return f"{100 * g['relative']:+.1f} %" if g["relative"] is not None else "n/a"


def plot_per_class(arms: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    classes = sorted({c for a in arms.values() for c in a["per_class_ap50"]})
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(classes) + 2), 3.5))
    width = 0.8 / len(arms)
    for k, (name, arm) in enumerate(arms.items()):
        pc = arm["per_class_ap50"]
        x = [i + (k - (len(arms) - 1) / 2) * width for i in range(len(classes))]
        ax.bar(x, [pc[c]["mean"] if c in pc else 0 for c in classes], width,
               yerr=[pc[c]["std"] if c in pc else 0 for c in classes], label=name)
    ax.set_xticks(range(len(classes)), classes, rotation=30, ha="right")
    ax.set_ylabel("AP50 (mean ± std over seeds)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def report_lines(results: dict) -> list[str]:
    """The Markdown table: one row per arm, overall and per-weather mAP50 columns."""
    arms = results["arms"]
    weathers = sorted({w for a in arms.values() for w in a["by_weather_map50"]})
    head = ["arm", "mAP50", "mAP50-95", *[f"mAP50 {w}" for w in weathers]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, arm in arms.items():
        cells = [name, _pm(arm["map50"]), _pm(arm["map50_95"])]
        cells += [_pm(arm["by_weather_map50"][w]) if w in arm["by_weather_map50"] else "–" for w in weathers]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def write_report(results: dict, out: Path) -> Path:
    plot_per_class(results["arms"], out / "report_ap.png")
    s = results["settings"]
    g, g95 = results["gain_map50"], results["gain_map50_95"]
    lines = ["# Detection: real vs real + synthetic polarimetric training data", "",
             f"Encoding `{s['encoding']}`, protocol `{s['protocol']}`, model `{s['model']}`, {s['epochs']} epochs, "
             f"{s['imgsz']} px, batch {s['batch']}, seeds {s['seeds']} (mean ± std over seeds).", "",
             *report_lines(results), "",
             f"Gain of real+synthetic over real: mAP50 {g['absolute']:+.4f} ({format_relative(g)}), "
             f"mAP50-95 {g95['absolute']:+.4f} ({format_relative(g95)}).", ""]
    if "rgb" in results["arms"]:
        lines += ["The `rgb` arm is a reference: the same detector trained and tested on RGB frames, with "
                  "ultralytics' default augmentation.", ""]
    lines += ["Augmentation in the polarimetric arms (ultralytics' pipeline as rewritten by polaraug):", "",
              *[f"- {a}" for a in results["augmentation"]], "", "![per-class AP50](report_ap.png)", "",
              f"Settings: `{json.dumps(s)}`", ""]
    return write_text(out / "report.md", "\n".join(lines))
