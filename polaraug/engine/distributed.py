"""Multi-process runs under torchrun: joining and leaving the process group, and the few collectives the
trainers need (gradient averaging, a shared stop flag, gathering small objects, a weight checksum).

Every function is a no-op (or the single-process answer) when WORLD_SIZE is 1, so callers never branch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DistContext:
    """This process's place in the run: ``rank`` of ``world`` processes, on ``device``."""

    rank: int
    world: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Rank 0 logs, samples and writes files."""
        return self.rank == 0


def _active() -> bool:
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def setup_distributed(device: torch.device) -> DistContext:
    """Join torchrun's process group when WORLD_SIZE > 1: NCCL with one GPU per local rank, else gloo.

    Args:
        device: the device picked for a single process.

    Returns:
        The process's context (rank 0 of 1 on ``device`` without torchrun).
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return DistContext(0, 1, device)
    import torch.distributed as dist

    shared = False
    if device.type == "cuda":  # one GPU per local rank, chosen before NCCL starts
        local, gpus = int(os.environ.get("LOCAL_RANK", "0")), torch.cuda.device_count()
        # more processes than GPUs (e.g. a 2-process check on one GPU): ranks share GPUs round-robin, and
        # gloo replaces NCCL, which refuses two ranks on one device
        shared = int(os.environ.get("LOCAL_WORLD_SIZE", "1")) > gpus
        torch.cuda.set_device(local % gpus)
        device = torch.device("cuda", local % gpus)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" and not shared else "gloo")
    return DistContext(dist.get_rank(), dist.get_world_size(), device)


def teardown(ctx: DistContext) -> None:
    """Wait for every rank (files written by rank 0 are complete), then leave the process group: gloo's
    threads abort the interpreter at exit otherwise ("terminate called without an active exception")."""
    if ctx.world > 1 and _active():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def barrier() -> None:
    """Wait for every rank; a no-op on one process."""
    if _active():
        torch.distributed.barrier()


def all_ranks_true(flag: bool, ctx: DistContext) -> bool:
    """Whether ``flag`` holds on every rank (so that all ranks stop together, none hanging in the next
    all-reduce)."""
    if ctx.world <= 1:
        return flag
    t = torch.tensor([0.0 if flag else 1.0], device=ctx.device)
    torch.distributed.all_reduce(t)
    return float(t) == 0.0


def gather_objects(obj, ctx: DistContext) -> list | None:
    """Every rank's ``obj`` in rank order, on all ranks; None on a single process. A collective."""
    if ctx.world <= 1:
        return None
    out: list = [None] * ctx.world
    torch.distributed.all_gather_object(out, obj)
    return out


def average_gradients(opt: torch.optim.Optimizer) -> None:
    """Average the gradients of ``opt``'s parameters over all ranks in one coalesced all-reduce.

    The GANs' G and D updates alternate and freeze each other's parameters, which DDP's per-module
    wrappers do not support without extra passes; a no-op on a single process.
    """
    if not _active() or torch.distributed.get_world_size() == 1:
        return
    world = torch.distributed.get_world_size()
    grads = [p.grad for g in opt.param_groups for p in g["params"] if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    torch.distributed.all_reduce(flat)
    flat /= world
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def check_in_sync(model: torch.nn.Module, ctx: DistContext) -> None:
    """Raise if the ranks hold different weights (a cheap checksum comparison); a no-op on one process."""
    if ctx.world <= 1:
        return
    total = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum().reshape(1)
    sums = [torch.zeros_like(total) for _ in range(ctx.world)]
    torch.distributed.all_gather(sums, total)
    if any(not torch.equal(s, sums[0]) for s in sums):
        raise RuntimeError(f"ranks diverged: parameter checksums {[float(s) for s in sums]}")
