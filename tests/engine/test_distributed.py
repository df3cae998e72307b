"""torchrun process groups: one GPU per local rank with NCCL, shared GPUs through gloo."""

import pytest
import torch
import torch.distributed as dist

from polaraug.engine.distributed import setup_distributed


@pytest.fixture
def fake_cuda(monkeypatch):
    """A machine with ``gpus`` CUDA devices (set by the test) and a process group that records its backend."""
    seen: dict = {"gpus": 1}
    monkeypatch.setattr(torch.cuda, "device_count", lambda: seen["gpus"])
    monkeypatch.setattr(torch.cuda, "set_device", lambda i: seen.setdefault("set", []).append(i))
    monkeypatch.setattr(dist, "is_initialized", lambda: False)
    monkeypatch.setattr(dist, "init_process_group", lambda backend: seen.setdefault("backend", backend))
    monkeypatch.setattr(dist, "get_rank", lambda: 1)
    monkeypatch.setattr(dist, "get_world_size", lambda: 2)
    return seen


@pytest.mark.parametrize(("gpus", "device", "backend"), [(1, 0, "gloo"), (2, 1, "nccl")])
def test_ranks_share_a_gpu_through_gloo_and_own_one_through_nccl(fake_cuda, monkeypatch, gpus, device, backend):
    fake_cuda["gpus"] = gpus
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    ctx = setup_distributed(torch.device("cuda"))
    assert ctx.device == torch.device("cuda", device) and fake_cuda["set"] == [device]
    assert fake_cuda["backend"] == backend and (ctx.rank, ctx.world) == (1, 2)
