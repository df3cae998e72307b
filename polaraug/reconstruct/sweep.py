"""``polaraug reconstruct sweep``: one model per λ (same budget, several seeds), scored on held-out crops
for respect of the constraints (MSE on known pixels) and visual quality (domain FID, KID, SWD); optional
baselines (a context encoder, latent optimisation: :mod:`polaraug.reconstruct.baselines`) trained on the
same batches for the same steps and scored the same way.

Evaluation crops come from the last ``holdout`` share of the images (never trained on), with masks drawn
like in training. Outputs: ``sweep.json``, ``sweep.md`` and ``tradeoff.png`` (FID vs constraint MSE).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import replace
from pathlib import Path

import torch

from polaraug.errors import ConfigError, InputError
from polaraug.io.atomic import write_text

from .baselines import load_baseline, train_baseline
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


GAN = "pixel-wise GAN"
KEYS = ("constraint_mse", "satisfied_fraction", "fid", "kid", "swd")


def run_sweep(data: Crops, out: str | Path, cfg: ReconstructConfig, *, lambdas: list[float], seeds: list[int],
              steps: int, eval_images: int = 128, holdout: float = 0.2, feature_net: str | Path | None = None,
              baselines: tuple[str, ...] = (), device: str | None = None, progress: bool = True) -> dict:
    """Train and score every (λ, seed) of the pixel-wise GAN and every (baseline, seed).

    Args:
        data: the images; the last ``holdout`` share is held out for scoring.
        out: the sweep folder (one run folder per model; sweep.json, sweep.md, tradeoff.png).
        cfg: the settings every run shares (λ replaced per run).
        lambdas, seeds, steps: the grid and the budget of every run (optimizer steps).
        eval_images: held-out crops scored per run.
        feature_net: a TorchScript feature extractor for FID (default: one trained on the data).
        baselines: methods of :data:`polaraug.reconstruct.baselines.BASELINES` to add.
        device: torch device name.
        progress: progress bars.

    Returns:
        The results as written to sweep.json (settings, runs, table).
    """
    out = Path(out)
    if "latent-optimisation" in baselines and cfg.crop % 16:  # before any training, not after the λ runs
        raise ConfigError(f"latent-optimisation needs a crop that is a multiple of 16, got {cfg.crop}")
    train_data, test_data = split_holdout(data, holdout)
    real, m = eval_batch(test_data, eval_images)
    reference, _ = eval_batch(replace(test_data, seed=test_data.seed + 1), eval_images)
    featnet, extractor = _feature_net(feature_net, train_data, data.seed)
    rows = []
    for lam in lambdas:
        for seed in seeds:
            run = out / f"lambda_{lam:g}_s{seed}"
            c = replace(cfg, lam=lam)
            result = train(replace(train_data, seed=seed, cfg=c), run, c, steps, seed=seed, device=device,
                           progress=progress)
            model, _ = load_checkpoint(result.checkpoint)
            model.eval()
            rows.append({"method": GAN, "lambda": lam, "seed": seed,
                         **score(model, real, m, reference, featnet, seed)})
    for method in baselines:
        for seed in seeds:
            result = train_baseline(method, replace(train_data, seed=seed), out / f"{method}_s{seed}", cfg, steps,
                                    seed=seed, device=device, progress=progress)
            model, _ = load_baseline(result.checkpoint)
            model.eval()
            rows.append({"method": method, "lambda": None, "seed": seed,
                         **score(model, real, m, reference, featnet, seed)})
    table = _table(rows, [(GAN, lam) for lam in lambdas] + [(b, None) for b in baselines])
    results = {"settings": {"config": cfg.to_dict(), "steps": steps, "seeds": seeds, "eval_images": len(real),
                            "holdout": holdout, "feature_extractor": extractor, "baselines": list(baselines)},
               "runs": rows, "table": table}
    write_text(out / "sweep.json", json.dumps(results, indent=2) + "\n")
    write_text(out / "sweep.md", "\n".join(table_lines(results)) + "\n")
    plot_tradeoff(results, out / "tradeoff.png")
    return results


def _feature_net(feature_net: str | Path | None, train_data: Crops, seed: int):
    """The FID feature extractor and its description: a local TorchScript file, else one trained on the data."""
    if feature_net is not None:
        return load_feature_net(feature_net), str(feature_net)
    images = (eval_batch(replace(train_data, seed=seed + 20_000), 256)[0] + 1) / 2
    return train_feature_net(images), "domain (self-supervised on the training images)"


def _table(rows: list[dict], models: list[tuple[str, float | None]]) -> list[dict]:
    """mean ± std over seeds of every metric, one row per (method, λ)."""
    table = []
    for method, lam in models:
        rs = [r for r in rows if r["method"] == method and r["lambda"] == lam]
        table.append({"method": method, "lambda": lam,
                      **{k: {"mean": statistics.fmean(r[k] for r in rs),
                             "std": statistics.stdev(r[k] for r in rs) if len(rs) > 1 else 0.0} for k in KEYS}})
    return table


def _pm(d: dict, fmt: str) -> str:
    return f"{d['mean']:{fmt}} ± {d['std']:{fmt}}"


def row_label(row: dict) -> str:
    """``λ = 1`` for the pixel-wise GAN's rows, the method for a baseline's (sweeps from before the baselines
    have no method)."""
    return f"λ = {row['lambda']:g}" if row.get("method", GAN) == GAN else row["method"]


def table_lines(results: dict) -> list[str]:
    lines = ["| model | constraint MSE | satisfied (ε = 0.1) | domain FID | KID | SWD (×10³) |",
             "|---|---|---|---|---|---|"]
    for r in results["table"]:
        lines.append(f"| {row_label(r)} | {_pm(r['constraint_mse'], '.5f')} | {_pm(r['satisfied_fraction'], '.3f')} "
                     f"| {_pm(r['fid'], '.3f')} | {_pm(r['kid'], '.4f')} | {_pm(r['swd'], '.1f')} |")
    return lines


def plot_tradeoff(results: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    gan = [r for r in results["table"] if r.get("method", GAN) == GAN]
    others = [r for r in results["table"] if r.get("method", GAN) != GAN]
    groups = [(gan, dict(marker="o", label=GAN))] + [([r], dict(marker="s", ls="none", label=row_label(r)))
                                                       for r in others]
    for rows, style in groups:
        xs = [r["constraint_mse"]["mean"] for r in rows]
        ys = [r["fid"]["mean"] for r in rows]
        ax.errorbar(xs, ys, xerr=[r["constraint_mse"]["std"] for r in rows],
                    yerr=[r["fid"]["std"] for r in rows], **style)
    for r in gan:
        ax.annotate(f"λ={r['lambda']:g}", (r["constraint_mse"]["mean"], r["fid"]["mean"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=8)
    if others:
        ax.legend(fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("constraint MSE on known pixels")
    ax.set_ylabel("domain FID")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path

