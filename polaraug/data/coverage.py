"""``polaraug coverage``: the attribute distributions (weather, time of day, scene) of several sets side by
side: what a real set lacks, and what a translated set adds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .frame import Frame
from .select import ATTRIBUTES, attribute_counts


def set_frames(root: Path) -> list[Frame]:
    """Every frame of a polaraug-layout set (a folder with manifest.json) or of an RGB source (BDD100K,
    KITTI, COCO, YOLO, a folder of images).

    Raises:
        DatasetError: an unreadable set (the message names the file).
    """
    from .polarset import read_polarset
    from .sources import source_frames

    root = Path(root)
    if (root / "manifest.json").is_file():
        ps = read_polarset(root)
        return [f for s in ps.splits for f in ps.frames(s)]
    return list(source_frames(root))


def coverage(sets: dict[str, list[Frame]]) -> dict[str, dict[str, dict[str, int]]]:
    """{attribute: {set name: {value: frames}}}."""
    counts = {name: attribute_counts(frames) for name, frames in sets.items()}
    return {a: {name: dict(c[a]) for name, c in counts.items()} for a in ATTRIBUTES}


def table_lines(cov: dict[str, dict[str, dict[str, int]]]) -> list[str]:
    """One Markdown table per attribute: a row per value, per set its frames and share; values a set lacks
    show as 0."""
    lines: list[str] = []
    for attr, per_set in cov.items():
        names = list(per_set)
        values = sorted({v for c in per_set.values() for v in c}, key=lambda v: (v == "unknown", v))
        totals = {n: sum(per_set[n].values()) or 1 for n in names}
        lines += [f"| {attr} | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
        for v in values:
            cells = [f"{per_set[n].get(v, 0)} ({100 * per_set[n].get(v, 0) / totals[n]:.0f} %)" for n in names]
            lines.append(f"| {v} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def plot_coverage(cov: dict[str, dict[str, dict[str, int]]], path: Path) -> Path:
    """Bar charts of every attribute's shares per set (one panel per attribute)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(cov), figsize=(4.5 * len(cov), 3.6))
    for ax, (attr, per_set) in zip(axes, cov.items(), strict=True):
        values = sorted({v for c in per_set.values() for v in c}, key=lambda v: (v == "unknown", v))
        width = 0.8 / max(len(per_set), 1)
        for k, (name, c) in enumerate(per_set.items()):
            total = sum(c.values()) or 1
            x = [i + (k - (len(per_set) - 1) / 2) * width for i in range(len(values))]
            ax.bar(x, [100 * c.get(v, 0) / total for v in values], width, label=name)
        ax.set_xticks(range(len(values)), values, rotation=30, ha="right")
        ax.set_title(attr)
        ax.set_ylabel("% of the set's frames")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def missing_lines(cov: dict[str, dict[str, dict[str, int]]]) -> list[str]:
    """For the first set: the values other sets have and it lacks (what added data would bring)."""
    lines = []
    for attr, per_set in cov.items():
        names = list(per_set)
        if len(names) < 2:
            continue
        first = Counter(per_set[names[0]])
        for other in names[1:]:
            adds = sorted(v for v, n in per_set[other].items() if n and not first.get(v) and v != "unknown")
            if adds:
                lines.append(f"{other} adds {attr} {', '.join(adds)}, which {names[0]} lacks")
    return lines
