"""One training loop for every GAN of polaraug: a step function plus callbacks.

The loop owns what every stage repeats: the progress bar, the stop on a non-finite loss (all ranks
together), ``log.csv`` and TensorBoard scalars, the periodic events, the final checkpoint and the torchrun
teardown. A stage passes ``step_fn(step) -> losses`` and registers callbacks::

    loop = TrainLoop(step_fn, Schedule(total=1000), start=0, ctx=ctx, run_dir=run, checkpoint=run / "last.pt")
    loop.add_callback("on_sample", lambda info: write_samples(info.step))
    loop.add_callback("on_checkpoint", lambda info: save(info.step))
    result = loop.run()

Events (``info`` is a :class:`StepInfo`): ``on_step_start(step)`` before each step (learning-rate
schedules; every rank); ``on_log``, ``on_sample`` and ``on_epoch_end`` on rank 0 when due;
``on_checkpoint`` on every rank when due (it may hold a collective, such as gathering image pools) and
once more at the end when a finished run has no checkpoint yet.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .distributed import DistContext, all_ranks_true, check_in_sync, teardown
from .logs import ResumableCsv

EVENTS = ("on_step_start", "on_log", "on_sample", "on_epoch_end", "on_checkpoint")


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """How long to train and how often each event fires (in optimizer steps)."""

    total: int
    max_seconds: float | None = None  # also stop once this process has trained this long (wall clock)
    steps_per_epoch: int = 1
    log_every: int = 10
    sample_every: int = 500
    checkpoint_every: int = 1000


@dataclass(frozen=True)
class StepInfo:
    """What callbacks see after a step: ``step`` steps are done, the last one in ``epoch``."""

    step: int
    epoch: int
    losses: dict[str, float] = field(default_factory=dict)
    rate: float = 0.0  # steps per second since this process started
    last: bool = False

    def due(self, every: int) -> bool:
        """Whether an event every ``every`` steps fires now (always at the last step)."""
        return self.last or self.step % every == 0


@dataclass
class TrainResult:
    """Where a finished training left its results."""

    steps: int
    checkpoint: Path
    log: Path


class TrainLoop:
    """Run ``step_fn`` from ``start`` to ``schedule.total`` with the callbacks of :data:`EVENTS`.

    Args:
        step_fn: one optimizer step of global step ``step`` (0-based); returns its loss terms.
        schedule: total steps and event periods.
        start: steps already done (the resumed checkpoint's step).
        ctx: this process's rank, world size and device.
        run_dir: the run folder (``log.csv``, ``tensorboard/``).
        checkpoint: the checkpoint path (named in errors; saved by the ``on_checkpoint`` callbacks).
        log_fields: extra leading columns of each ``log.csv`` row (e.g. epoch, learning rate).
        tensorboard: a SummaryWriter for the same scalars (the loop closes it at the end), or None.
        postfix: what the progress bar shows after each step.
        sync_model: under torchrun, the model whose weights must agree across ranks at the end.
        desc: the progress bar's label; progress: show it (rank 0 only).
    """

    def __init__(self, step_fn: Callable[[int], dict[str, float]], schedule: Schedule, *, start: int,
                 ctx: DistContext, run_dir: Path, checkpoint: Path,
                 log_fields: Callable[[StepInfo], dict] | None = None, tensorboard=None,
                 postfix: Callable[[dict[str, float]], dict] | None = None,
                 sync_model: torch.nn.Module | None = None, desc: str = "train", progress: bool = True):
        self.step_fn, self.schedule, self.start, self.ctx = step_fn, schedule, start, ctx
        self.run_dir, self.checkpoint = Path(run_dir), Path(checkpoint)
        self.log_fields, self.postfix, self.sync_model = log_fields, postfix, sync_model
        self.desc, self.progress, self.tb = desc, progress, tensorboard
        self.callbacks: dict[str, list[Callable]] = {e: [] for e in EVENTS}

    def add_callback(self, event: str, fn: Callable) -> None:
        """Register ``fn`` for ``event`` (one of :data:`EVENTS`); callbacks run in registration order."""
        if event not in self.callbacks:
            raise ValueError(f"unknown training event {event!r} (known: {', '.join(EVENTS)})")
        self.callbacks[event].append(fn)

    def fire(self, event: str, arg) -> None:
        for fn in self.callbacks[event]:
            fn(arg)

    def run(self) -> TrainResult:
        """Train to ``schedule.total`` (nothing when already there); returns where the results are."""
        from tqdm import tqdm

        s, main = self.schedule, self.ctx.main
        log = ResumableCsv(self.run_dir / "log.csv", self.start) if main else None
        bar = tqdm(total=s.total, initial=self.start, disable=not (self.progress and main), unit="it",
                   desc=self.desc)
        t0, done = time.perf_counter(), self.start
        try:
            for step in range(self.start, s.total):
                self.fire("on_step_start", step)
                losses = self.step_fn(step)
                self._check_finite(step, losses)
                done, elapsed = step + 1, time.perf_counter() - t0
                info = StepInfo(done, step // s.steps_per_epoch, losses, (done - self.start) / max(elapsed, 1e-9),
                                done == s.total or self._out_of_time(elapsed))
                bar.update(1)
                if self.postfix is not None and main:
                    bar.set_postfix(self.postfix(losses))
                self._events(info, log)
                if info.last:
                    break
            if self.start >= s.total and not self.checkpoint.exists():
                self.fire("on_checkpoint", StepInfo(self.start, self.start // s.steps_per_epoch, last=True))
        finally:
            bar.close()
            if self.tb is not None:
                self.tb.close()
        if self.sync_model is not None:
            check_in_sync(self.sync_model, self.ctx)
        teardown(self.ctx)
        return TrainResult(max(self.start, done), self.checkpoint, self.run_dir / "log.csv")

    def _out_of_time(self, elapsed: float) -> bool:
        """Whether the time budget is spent (the same answer on every rank: rank 0's clock decides)."""
        if self.schedule.max_seconds is None:
            return False
        over = elapsed >= self.schedule.max_seconds
        if self.ctx.world > 1:
            flag = torch.tensor([1.0 if over else 0.0], device=self.ctx.device)
            torch.distributed.broadcast(flag, src=0)
            over = bool(flag.item())
        return over

    def _check_finite(self, step: int, losses: dict[str, float]) -> None:
        finite = all(math.isfinite(v) for v in losses.values())
        if not all_ranks_true(finite, self.ctx):
            raise FloatingPointError(f"step {step}: non-finite loss {losses}; last good checkpoint: "
                                     f"{self.checkpoint}")

    def _events(self, info: StepInfo, log: ResumableCsv | None) -> None:
        s = self.schedule
        if self.ctx.main:
            if info.due(s.log_every):
                self._log(info, log)
            if info.due(s.sample_every):
                self.fire("on_sample", info)
            if info.last or info.step % s.steps_per_epoch == 0:
                self.fire("on_epoch_end", info)
        if info.due(s.checkpoint_every):
            self.fire("on_checkpoint", info)  # every rank: the callback may hold a collective

    def _log(self, info: StepInfo, log: ResumableCsv) -> None:
        extra = self.log_fields(info) if self.log_fields is not None else {}
        log.write({"step": info.step, **extra, **{k: round(v, 6) for k, v in info.losses.items()},
                   "it_per_s": round(info.rate, 3)})
        if self.tb is not None:
            for k, v in info.losses.items():
                self.tb.add_scalar(f"loss/{k}", v, info.step)
            for k, v in extra.items():
                if k != "epoch":
                    self.tb.add_scalar(k, v, info.step)
        self.fire("on_log", info)
