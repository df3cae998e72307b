"""``polaraug translate``: the main job, an RGB dataset -> a polarimetric dataset."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors


def translate(
    src: Annotated[Path, typer.Argument(help="BDD100K root, KITTI root or a folder of images.")],
    out: Annotated[Path, typer.Argument(help="Output polarimetric set (polaraug layout).")],
    checkpoint: Annotated[Path, typer.Option(help="Translator checkpoint (from polaraug train).")],
    fmt: Annotated[str, typer.Option("--format", help="auto, bdd100k, kitti, folder.")] = "auto",
    project: Annotated[bool, typer.Option("--project", help="Project every output onto the admissible cone "
                                                            "(always on for 'project' checkpoints).")] = False,
    batch: Annotated[int, typer.Option(help="Frames per forward pass (frames of equal size).")] = 4,
    bits: Annotated[int, typer.Option(help="Output PNG depth: 8 or 16.")] = 16,
    shard: Annotated[str, typer.Option(help="i/n: translate frames i, i+n, ... (under torchrun: the rank).")]
    = "0/1",
    device: Annotated[str | None, typer.Option(help="cuda, cpu, ... (default: CUDA when present).")] = None,
    workers: Annotated[int, typer.Option(help="Decode/encode threads.")] = 4,
    compile_model: Annotated[bool, typer.Option("--compile", help="torch.compile the generator (GPU runs; "
                                                                  "needs a C++ compiler).")] = False,
) -> None:
    """Translate every frame at full resolution, carry labels over, write a manifest; resumable."""
    from polaraug.translate.checkpoint import CheckpointError
    from polaraug.translate.run import load_for_translation, merge_outputs, translate_dataset

    world = int(os.environ.get("WORLD_SIZE", "1"))
    with user_errors():
        try:
            i, n = (int(v) for v in shard.split("/"))
        except ValueError:
            raise ValueError(f"--shard must look like 0/4, got {shard!r}") from None
        if bits not in (8, 16):
            raise ValueError(f"--bits must be 8 or 16, got {bits}")
        try:
            model, camera = load_for_translation(checkpoint, device)
        except CheckpointError as e:
            raise ValueError(str(e)) from None
        if compile_model:
            import torch

            model.g_ab = torch.compile(model.g_ab)
        if world > 1:  # torchrun: one shard per rank, rank 0 merges after everyone is done
            from polaraug.translate.train import pick_device, setup_distributed

            rank, world, dev = setup_distributed(pick_device(device))
            model.to(dev)
            i, n = rank, world
        summary = translate_dataset(src, out, model, checkpoint, camera, fmt, project, batch, bits, (i, n),
                                    workers, progress=True, merge=world == 1)
        if world > 1:
            import torch.distributed as dist

            dist.barrier()
            if i == 0:
                merge_outputs(out, camera, model, checkpoint, project or model.cfg.mode == "project", bits, summary)
            dist.destroy_process_group()
    if i == 0 or world == 1:
        typer.echo(f"translated {summary.written} frames into {out} ({summary.skipped_existing} already there, "
                   f"{len(summary.unreadable)} unreadable)")
        for line in summary.unreadable:
            typer.echo(f"  skipped: {line}")
