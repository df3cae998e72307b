"""``polaraug synth``: the built-in data source (labelled road scenes, RGB and polarimetric)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must look like 256x256, got {text!r}") from None
    return w, h


def synth(
    out: Annotated[Path, typer.Argument(help="Output folder.")],
    n: Annotated[int, typer.Option("-n", help="Number of frames.")] = 100,
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT in pixels.")] = "256x256",
    mode: Annotated[str, typer.Option(help="rgb, polar, or paired (OUT/rgb + OUT/polar, same scenes).")] = "paired",
    layout: Annotated[str, typer.Option(help="RGB layout: bdd100k or kitti.")] = "bdd100k",
    weather: Annotated[str, typer.Option(help="mixed, clear, overcast, foggy or rainy.")] = "mixed",
    night: Annotated[float, typer.Option(help="Share of night frames.")] = 0.2,
    val: Annotated[float, typer.Option(help="Share of frames in the val split.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same images and labels.")] = 0,
    camera: Annotated[str, typer.Option(help="Polarimetric camera file or built-in name.")] = "ideal",
    bits: Annotated[int, typer.Option(help="Polarimetric depth: 8, 12 (in 16-bit PNGs) or 16.")] = 16,
    dofp: Annotated[bool, typer.Option(help="Simulate the camera's DoFP mosaic and demosaicing.")] = False,
    noise: Annotated[bool, typer.Option(help="Sensor noise.")] = True,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: one per core).")] = None,
) -> None:
    """Render labelled road scenes: an RGB set (BDD100K or KITTI layout), a polarimetric set, or both."""
    from polaraug.cameras import load_camera
    from polaraug.synth.generate import SynthConfig, generate
    from polaraug.synth.sensor import SensorConfig

    with user_errors():
        width, height = _size(size)
        cam = load_camera(camera)
        if dofp and cam.dofp_pattern is None:
            raise ValueError(f"--dofp needs a camera with a dofp_pattern; '{cam.name}' has none")
        sensor = SensorConfig(bits=bits, dofp_pattern=cam.dofp_pattern if dofp else None,
                              **({} if noise else {"read_noise": 0.0, "shot_noise": 0.0}))
        cfg = SynthConfig(n=n, width=width, height=height, seed=seed, mode=mode, rgb_layout=layout,
                          weather=weather, night_fraction=night, val_fraction=val, camera=cam, sensor=sensor)
        summary = generate(cfg, out, workers=workers)
    typer.echo(f"wrote {sum(summary['frames'].values())} frames to {out} "
               f"({', '.join(f'{k}: {v}' for k, v in summary['frames'].items())})")
    typer.echo("boxes: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["boxes"].items())))
