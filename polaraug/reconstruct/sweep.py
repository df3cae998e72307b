"""``polaraug reconstruct sweep``: one model per λ (same budget, several seeds), scored on held-out crops
for respect of the constraints (MSE on known pixels) and visual quality (domain FID, KID, SWD).

Evaluation crops come from the last ``holdout`` share of the images (never trained on), with masks drawn
like in training. Outputs: ``sweep.json``, ``sweep.md`` and ``tradeoff.png`` (FID vs constraint MSE).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from pathlib import Path

import torch

from polaraug.errors import InputError
from polaraug.io.atomic import write_text

from .checkpoint import load_checkpoint
from .config import ReconstructConfig
from .data import Crops
from .metrics import (
    features,
    frechet_distance,
    kernel_inception_distance,
    load_feature_net,
    sliced_wasserstein,
    train_feature_net,
)
from .model import constraint_mse
from .train import train


def split_holdout(data: Crops, holdout: float) -> tuple[Crops, Crops]:
    n = len(data.items)
    k = max(1, round(n * holdout))
    if n - k < 1:
        raise InputError(f"need at least 2 images for a sweep with a held-out share, found {n}")
    return replace(data, items=data.items[:n - k]), replace(data, items=data.items[n - k:], seed=data.seed + 10_000)


def eval_batch(data: Crops, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` held-out crops (n, C, c, c) in [-1, 1] and their masks, fixed by the data's seed."""
    xs, ms = [], []
    step = 0
    while sum(len(x) for x in xs) < n:
        x, m, _ = data.batch_at(step)
        xs.append(x)
        ms.append(m)
        step += 1
    return torch.cat(xs)[:n], torch.cat(ms)[:n]


@torch.no_grad()
def score(model, real: torch.Tensor, m: torch.Tensor, reference: torch.Tensor, featnet,
          seed: int = 0) -> dict[str, float]:
    """Constraint metrics of completions of ``real`` under masks ``m``; distribution distances between the
    completions and ``reference``, other held-out crops (the estimators assume independent samples)."""
    gen = torch.Generator().manual_seed(seed)
    fake = torch.cat([model.complete(real[i:i + 16], m[i:i + 16], gen, keep_known=False)
                      for i in range(0, len(real), 16)])
    r01, f01 = (reference + 1) / 2, (fake + 1) / 2
    fr, ff = features(featnet, r01), features(featnet, f01)
    return {"constraint_mse": float(constraint_mse(fake, real, m)),
            "satisfied_fraction": float((((fake - real).abs() / 2 < 0.1).all(1, keepdim=True) & (m > 0)).sum()
                                        / m.sum().clamp(min=1)),
            "fid": frechet_distance(fr, ff), "kid": kernel_inception_distance(fr, ff),
            "swd": sliced_wasserstein(r01, f01)}


def run_sweep(data: Crops, out: str | Path, cfg: ReconstructConfig, *, lambdas: list[float], seeds: list[int],
              steps: int, eval_images: int = 128, holdout: float = 0.2, feature_net: str | Path | None = None,
              device: str | None = None, progress: bool = True) -> dict:
    out = Path(out)
    train_data, test_data = split_holdout(data, holdout)
    real, m = eval_batch(test_data, eval_images)
    reference, _ = eval_batch(replace(test_data, seed=test_data.seed + 1), eval_images)
    if feature_net is not None:
        featnet, extractor = load_feature_net(feature_net), str(feature_net)
    else:
        featnet, extractor = train_feature_net((eval_batch(replace(train_data, seed=data.seed + 20_000), 256)[0]
                                                + 1) / 2), "domain (self-supervised on the training images)"
    rows = []
    for lam in lambdas:
        for seed in seeds:
            run = out / f"lambda_{lam:g}_s{seed}"
            c = replace(cfg, lam=lam)
            result = train(replace(train_data, seed=seed, cfg=c), run, c, steps, seed=seed, device=device,
                           progress=progress)
            model, _ = load_checkpoint(result.checkpoint)
            model.eval()
            rows.append({"lambda": lam, "seed": seed, **score(model, real, m, reference, featnet, seed)})
    keys = ("constraint_mse", "satisfied_fraction", "fid", "kid", "swd")
    table = []
    for lam in lambdas:
        rs = [r for r in rows if r["lambda"] == lam]
        table.append({"lambda": lam, **{k: {"mean": statistics.fmean(r[k] for r in rs),
                                            "std": statistics.stdev(r[k] for r in rs) if len(rs) > 1 else 0.0}
                                        for k in keys}})
    results = {"settings": {"config": cfg.to_dict(), "steps": steps, "seeds": seeds, "eval_images": len(real),
                            "holdout": holdout, "feature_extractor": extractor},
               "runs": rows, "table": table}
    write_text(out / "sweep.json", json.dumps(results, indent=2) + "\n")
    write_text(out / "sweep.md", "\n".join(table_lines(results)) + "\n")
    plot_tradeoff(results, out / "tradeoff.png")
    return results


def _pm(d: dict, fmt: str) -> str:
    return f"{d['mean']:{fmt}} ± {d['std']:{fmt}}"


def table_lines(results: dict) -> list[str]:
    lines = ["| λ | constraint MSE | satisfied (ε = 0.1) | domain FID | KID | SWD (×10³) |",
             "|---|---|---|---|---|---|"]
    for r in results["table"]:
        lines.append(f"| {r['lambda']:g} | {_pm(r['constraint_mse'], '.5f')} | {_pm(r['satisfied_fraction'], '.3f')} "
                     f"| {_pm(r['fid'], '.3f')} | {_pm(r['kid'], '.4f')} | {_pm(r['swd'], '.1f')} |")
    return lines


def plot_tradeoff(results: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    xs = [r["constraint_mse"]["mean"] for r in results["table"]]
    ys = [r["fid"]["mean"] for r in results["table"]]
    ax.errorbar(xs, ys, xerr=[r["constraint_mse"]["std"] for r in results["table"]],
                yerr=[r["fid"]["std"] for r in results["table"]], marker="o")
    for r, x, y in zip(results["table"], xs, ys, strict=True):
        ax.annotate(f"λ={r['lambda']:g}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("constraint MSE on known pixels")
    ax.set_ylabel("domain FID")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

