"""The shared training loop: events, logs, resume and budgets, with a step function that needs no network."""

import csv
import math

import pytest
import torch

from polaraug.engine import DistContext, Schedule, TrainLoop

CPU = DistContext(0, 1, torch.device("cpu"))


def _loop(tmp_path, total, start=0, **kw):
    seen: list = []
    loss = kw.pop("loss", lambda step: {"loss": 1.0 / (step + 1)})

    def step_fn(step):
        seen.append(("step", step))
        return loss(step)

    sched = Schedule(total=total, steps_per_epoch=kw.pop("spe", 3), log_every=2, sample_every=4,
                     checkpoint_every=5, **kw)
    loop = TrainLoop(step_fn, sched, start=start, ctx=CPU, run_dir=tmp_path, checkpoint=tmp_path / "ck.pt",
                     progress=False)
    for event in ("on_sample", "on_epoch_end", "on_checkpoint", "on_log"):
        loop.add_callback(event, lambda info, e=event: seen.append((e, info.step)))
    loop.add_callback("on_checkpoint", lambda info: (tmp_path / "ck.pt").write_text(str(info.step)))
    return loop, seen


def test_events_fire_when_due_and_always_at_the_end(tmp_path):
    loop, seen = _loop(tmp_path, total=7)
    result = loop.run()
    assert result.steps == 7
    assert [s for e, s in seen if e == "step"] == list(range(7))
    assert [s for e, s in seen if e == "on_log"] == [2, 4, 6, 7]
    assert [s for e, s in seen if e == "on_sample"] == [4, 7]
    assert [s for e, s in seen if e == "on_epoch_end"] == [3, 6, 7]
    assert [s for e, s in seen if e == "on_checkpoint"] == [5, 7]
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [2, 4, 6, 7] and float(rows[0]["loss"]) == pytest.approx(0.5)


def test_a_resume_starts_after_the_checkpoint_and_a_finished_run_trains_nothing(tmp_path):
    _loop(tmp_path, total=4)[0].run()
    loop, seen = _loop(tmp_path, total=6, start=4)
    assert loop.run().steps == 6
    assert [s for e, s in seen if e == "step"] == [4, 5]
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [2, 4, 6]
    loop, seen = _loop(tmp_path, total=6, start=6)
    assert loop.run().steps == 6 and not [e for e, _ in seen if e == "step"]


def test_time_budget_stops_early_and_still_checkpoints(tmp_path):
    loop, seen = _loop(tmp_path, total=1000, max_seconds=0.0)  # spent after the first step
    result = loop.run()
    assert result.steps == 1
    assert ("on_checkpoint", 1) in seen and ("on_log", 1) in seen
    assert (tmp_path / "ck.pt").read_text() == "1"


def test_non_finite_loss_stops_with_the_checkpoint_named(tmp_path):
    loop, _ = _loop(tmp_path, total=5, loss=lambda step: {"loss": math.nan if step == 2 else 1.0})
    with pytest.raises(FloatingPointError, match=r"step 2: non-finite loss .*ck.pt"):
        loop.run()


def test_unknown_events_are_refused(tmp_path):
    loop, _ = _loop(tmp_path, total=1)
    with pytest.raises(ValueError, match="unknown training event 'on_stepp'"):
        loop.add_callback("on_stepp", print)
