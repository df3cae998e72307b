"""``polaraug train``: fit the constrained CycleGAN translator."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors


def train(
    rgb: Annotated[Path, typer.Option(help="Folder of RGB images (BDD100K, KITTI or plain).")],
    polar: Annotated[Path, typer.Option(help="Polarimetric set (polaraug layout, per-angle, 4-channel, DoFP).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder; rerunning resumes from its checkpoint.")],
    config: Annotated[Path | None, typer.Option(help="YAML with settings (optionally 'preset: cpu-small').")] = None,
    preset: Annotated[str, typer.Option(help="reference or cpu-small (when no --config).")] = "reference",
    mode: Annotated[str | None, typer.Option(help="Constraint mode: none, relax, project, proximal.")] = None,
    calibration: Annotated[str | None, typer.Option(help="Camera file; default: the polarimetric set's.")] = None,
    steps: Annotated[int | None, typer.Option(help="Stop after this many steps (default: the config's epochs).")]
    = None,
    seed: Annotated[int, typer.Option(help="Seed for initialisation and sampling.")] = 0,
    device: Annotated[str | None, typer.Option(help="cuda, cpu, ... (default: CUDA when present).")] = None,
    checkpoint_every: Annotated[int, typer.Option(help="Steps between checkpoints.")] = 1000,
    sample_every: Annotated[int, typer.Option(help="Steps between sample grids.")] = 500,
) -> None:
    """Train RGB -> (I0, I45, I90, I135) on unpaired data, constrained by polarization physics."""
    import dataclasses

    from polaraug.cameras import load_camera
    from polaraug.data.polarset import read_polarset
    from polaraug.translate.config import PRESETS, config_from_dict, load_config
    from polaraug.translate.data import UnpairedCrops
    from polaraug.translate.train import train as run_train

    with user_errors():
        if preset not in PRESETS:
            raise ValueError(f"--preset must be one of {sorted(PRESETS)}")
        cfg = load_config(config) if config else config_from_dict({"preset": preset})  # a config names its own
        if mode:
            cfg = dataclasses.replace(cfg, mode=mode)
        if calibration:
            camera = load_camera(calibration)
        elif (polar / "manifest.json").is_file():
            ps = read_polarset(polar)
            camera = dataclasses.replace(ps.camera, bit_depth=ps.bits)
        else:
            raise ValueError(f"{polar}: no manifest.json; pass --calibration for this polarimetric folder")
        data = UnpairedCrops.from_folders(rgb, polar, camera, cfg.crop, cfg.batch, seed)
        result = run_train(data, out, cfg, camera, seed=seed, max_steps=steps, device=device,
                           checkpoint_every=checkpoint_every, sample_every=sample_every)
    import os

    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 reports
        typer.echo(f"trained {result.steps} steps; checkpoint {result.checkpoint}; log {result.log}")
