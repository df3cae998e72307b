"""``polaraug train``: fit the constrained CycleGAN on unpaired RGB and polarimetric folders.

Run folder: ``checkpoints/last.pt`` (every ``checkpoint_every`` steps and at the end), ``log.csv`` (loss
terms, learning rate, it/s), ``physics.csv`` (per epoch: inadmissible fraction, calibration residual
and DoLP histogram of generated images), ``samples/step_*.png`` (RGB | I0 | I45 | I90 | I135 | DoLP |
AoLP), ``tensorboard/`` (the same scalars and samples). A rerun with the same folder resumes exactly where
the last checkpoint left off. Under ``torchrun`` every rank trains on its own batches with averaged
gradients; rank 0 writes.
"""

from __future__ import annotations

import csv
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from polaraug.cameras import Camera
from polaraug.io.atomic import write_text
from polaraug.io.images import write_image
from polaraug.physics import analyze, calibration_residual
from polaraug.viz import aolp_dolp_rgb, gray_rgb

from .checkpoint import load_checkpoint, save_checkpoint
from .config import TranslatorConfig
from .data import UnpairedCrops
from .model import ConstrainedCycleGAN

DOLP_BINS = np.linspace(0, 1, 11)


def pick_device(name: str | None = None) -> torch.device:
    """``name`` if given, else CUDA when present, else the CPU."""
    return torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))


def setup_distributed(device: torch.device) -> tuple[int, int, torch.device]:
    """(rank, world size, device). Under torchrun (WORLD_SIZE > 1) join the process group: NCCL with one
    GPU per local rank, else gloo on the CPU. torchrun starts and supervises the processes."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1, device
    import torch.distributed as dist

    if device.type == "cuda":  # one GPU per local rank, chosen before NCCL starts
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


def _gather_pools(model: ConstrainedCycleGAN, world: int) -> list[dict] | None:
    """Every rank's image pools, in rank order, on all ranks (None on a single process: the checkpoint
    then takes this process's). A collective: all ranks call it at the same steps."""
    if world <= 1:
        return None
    import torch.distributed as dist

    mine = {"a": model.pool_a.state_dict(), "b": model.pool_b.state_dict()}
    out: list = [None] * world
    dist.all_gather_object(out, mine)
    return out


def _check_in_sync(model: torch.nn.Module) -> None:
    """All ranks must hold identical weights; a cheap checksum comparison."""
    import torch.distributed as dist

    total = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1)
    sums = [torch.zeros_like(total) for _ in range(dist.get_world_size())]
    dist.all_gather(sums, total)
    if any(not torch.equal(s, sums[0]) for s in sums):
        raise RuntimeError(f"ranks diverged: parameter checksums {[float(s) for s in sums]}")


def lr_factor(step: int, steps_per_epoch: int, cfg: TranslatorConfig) -> float:
    """Constant for ``epochs``, then linear decay to 0 over ``decay_epochs`` (CycleGAN's 'linear' policy)."""
    epoch = step // steps_per_epoch
    return 1.0 - max(0, epoch + 1 - cfg.epochs) / float(cfg.decay_epochs + 1)


@dataclass
class TrainResult:
    steps: int
    checkpoint: Path
    log: Path


def _sample_grid(rgb: torch.Tensor, fake: torch.Tensor, a: np.ndarray) -> np.ndarray:
    """(H, 7W, 3) uint8: RGB | I0 | I45 | I90 | I135 | DoLP | AoLP (hue) of the first sample."""
    x = ((rgb[0].float().cpu().permute(1, 2, 0).numpy() + 1) / 2).clip(0, 1)
    y = ((fake[0].float().cpu().permute(1, 2, 0).numpy() + 1) / 2).astype(np.float32)
    m = analyze(y, a)
    tiles = [np.round(x * 255).astype(np.uint8)] + [gray_rgb(y[..., i]) for i in range(4)]
    tiles += [gray_rgb(m.dolp), aolp_dolp_rgb(m.aolp, np.clip(m.dolp, 0, 1))]
    return np.concatenate(tiles, axis=1)


def _physics(fake: torch.Tensor, a: np.ndarray) -> dict[str, float]:
    y = ((fake.float().cpu().permute(0, 2, 3, 1).numpy() + 1) / 2).astype(np.float32)
    m = analyze(y, a)
    hist, _ = np.histogram(np.clip(m.dolp, 0, 1), bins=DOLP_BINS)
    r = calibration_residual(y, a)
    return {"inadmissible_fraction": m.inadmissible_fraction, "residual_rms": float(np.sqrt(np.mean(r**2))),
            **{f"dolp_{DOLP_BINS[i]:.1f}": float(h) / max(hist.sum(), 1) for i, h in enumerate(hist)}}


def _tensorboard(folder: Path, start: int):
    """A SummaryWriter whose events past ``start`` (from a run that went on after its last checkpoint)
    are superseded; None if tensorboard is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # pragma: no cover - tensorboard is a declared dependency
        return None
    return SummaryWriter(str(folder), purge_step=start + 1)  # events up to ``start`` are the checkpoint's


class ResumableCsv:
    """Append-only CSV that, on resume, first drops rows past the resumed step."""

    def __init__(self, path: Path, resume_step: int):
        self.path, self.fields = path, None
        if path.exists():
            rows = list(csv.DictReader(path.open()))
            keep = [r for r in rows if int(r["step"]) <= resume_step]
            self.fields = list(rows[0]) if rows else None
            if len(keep) != len(rows):
                text = "" if not keep else ",".join(self.fields) + "\n" + "".join(
                    ",".join(r[f] for f in self.fields) + "\n" for r in keep)
                write_text(path, text)
            if not keep:
                self.fields = None  # the next row writes the header again

    def write(self, row: dict) -> None:
        new = self.fields is None
        if new:
            self.fields = list(row)
        with self.path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow(row)


def train(data: UnpairedCrops, run_dir: str | Path, cfg: TranslatorConfig, camera: Camera, seed: int = 0,
          max_steps: int | None = None, device: str | None = None, checkpoint_every: int = 1000,
          sample_every: int = 500, log_every: int = 10, progress: bool = True) -> TrainResult:
    """Train (or resume) in ``run_dir``; returns where the checkpoint and the log are."""
    from tqdm import tqdm

    run = Path(run_dir)
    rank, world, dev = setup_distributed(pick_device(device))
    data.rank = rank
    ckpt = run / "checkpoints" / "last.pt"
    if ckpt.exists():
        model, state = load_checkpoint(ckpt, cfg, resume=True, device=dev, rank=rank)
        start = int(state["step"])
        if int(state.get("seed", seed)) != seed:
            raise ValueError(f"{ckpt}: this run was started with seed {state.get('seed')}, not {seed}; "
                             "resume with the same seed or use a new run folder")
    else:
        model, start = ConstrainedCycleGAN(cfg, camera.matrix(), seed=seed), 0
        if rank == 0:
            write_text(run / "config.json", json.dumps({"config": cfg.to_dict(), "camera": camera.to_dict(),
                                                         "seed": seed, "world_size": world}, indent=2))
    model.to(dev)
    model.amp = dev.type == "cuda"
    if dev.type == "cuda":
        model.to(memory_format=torch.channels_last)
    spe = data.steps_per_epoch
    total = max_steps if max_steps is not None else (cfg.epochs + cfg.decay_epochs) * spe
    main = rank == 0  # only rank 0 logs, samples and saves
    log = ResumableCsv(run / "log.csv", start) if main else None
    physics = ResumableCsv(run / "physics.csv", start) if main else None
    tb = _tensorboard(run / "tensorboard", start) if main else None
    a = camera.matrix()
    bar = tqdm(total=total, initial=start, disable=not (progress and main), unit="it", desc="train")
    t0, step = time.perf_counter(), start
    for step in range(start, total):
        for opt in (model.opt_g, model.opt_d):
            for group in opt.param_groups:
                group["lr"] = cfg.lr * lr_factor(step, spe, cfg)
        fmt = torch.channels_last if dev.type == "cuda" else torch.contiguous_format
        real_a, real_b = (t.to(dev, memory_format=fmt) for t in data.batch_at(step))
        losses = model.training_step(real_a, real_b)
        finite = all(np.isfinite(v) for v in losses.values())
        if world > 1:  # all ranks stop together instead of one hanging in the next all-reduce
            import torch.distributed as dist

            flag = torch.tensor([0.0 if finite else 1.0], device=dev)
            dist.all_reduce(flag)
            finite = float(flag) == 0.0
        if not finite:
            raise FloatingPointError(f"step {step}: non-finite loss {losses}; last good checkpoint: {ckpt}")
        done = step + 1
        bar.update(1)
        pools = _gather_pools(model, world) if (done % checkpoint_every == 0 or done == total) else None
        if not main:
            continue
        if done % log_every == 0 or done == total:
            rate = (done - start) / max(time.perf_counter() - t0, 1e-9)
            log.write({"step": done, "epoch": step // spe, "lr": cfg.lr * lr_factor(step, spe, cfg),
                       **{k: round(v, 6) for k, v in losses.items()}, "it_per_s": round(rate, 3)})
            if tb is not None:
                for k, v in losses.items():
                    tb.add_scalar(f"loss/{k}", v, done)
                tb.add_scalar("lr", cfg.lr * lr_factor(step, spe, cfg), done)
        if done % sample_every == 0 or done == total or (done % spe == 0):
            fake = model.translate(real_a)
            if done % sample_every == 0 or done == total:
                grid = _sample_grid(real_a, fake, a)
                write_image(run / "samples" / f"step_{done:07d}.png", grid)
                if tb is not None:
                    tb.add_image("samples", grid, done, dataformats="HWC")
            if done % spe == 0 or done == total:
                stats = _physics(fake, a)
                physics.write({"step": done, "epoch": step // spe, **stats})
                if tb is not None:
                    tb.add_scalar("physics/inadmissible_fraction", stats["inadmissible_fraction"], done)
                    tb.add_scalar("physics/residual_rms", stats["residual_rms"], done)
        if done % checkpoint_every == 0 or done == total:
            save_checkpoint(model, ckpt, step=done, epoch=step // spe, camera_name=camera.name,
                            pools=pools, seed=seed)
    bar.close()
    if tb is not None:
        tb.close()
    if main and start >= total and not ckpt.exists():
        save_checkpoint(model, ckpt, step=start, epoch=start // spe, camera_name=camera.name, seed=seed)
    if world > 1:
        import torch.distributed as dist

        _check_in_sync(model)
        dist.barrier()  # the checkpoint is complete before any rank returns
        # Leave the process group: gloo's threads abort the interpreter at exit otherwise
        # ("terminate called without an active exception").
        dist.destroy_process_group()
    return TrainResult(max(start, total), ckpt, run / "log.csv")
