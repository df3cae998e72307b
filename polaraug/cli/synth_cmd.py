"""``polaraug synth``: the built-in data source (labelled road scenes, RGB and polarimetric)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from polaraug.errors import InputError

from ._errors import user_errors


def parse_size(text: str, flag: str = "--size") -> tuple[int, int]:
    """'WIDTHxHEIGHT' -> (width, height); InputError naming ``flag`` otherwise."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise InputError(f"{flag} must look like 256x256, got {text!r}") from None
    return w, h


def synth(
    out: Annotated[Path, typer.Argument(help="Output folder.")],
    n: Annotated[int, typer.Option("-n", help="Number of frames.")] = 100,
    size: Annotated[str, typer.Option(help="WIDTHxHEIGHT in pixels.")] = "256x256",
    mode: Annotated[str, typer.Option(help="rgb, polar, or paired (OUT/rgb + OUT/polar, same scenes).")] = "paired",
    layout: Annotated[str, typer.Option(help="RGB layout: bdd100k or kitti.")] = "bdd100k",
    domain: Annotated[str, typer.Option(
        help="Rendering domain: default (the pretraining renderer) or shifted (a non-ideal 12-bit DoFP camera, "
             "other weather, sun and materials: a 'real' domain for honest benchmarks), wide (the default "
             "renderer with wet roads under any sky and a wider sun range, for training translators) or "
             "randomised (wide, with every material's index, gloss and albedo and the sky's polarization drawn "
             "per frame). Sets the defaults of --camera, --bits, --dofp and the noise levels.")] = "default",
    weather: Annotated[str, typer.Option(help="mixed (the domain's mix), clear, overcast, foggy or rainy.")] = "mixed",
    night: Annotated[float, typer.Option(help="Share of night frames.")] = 0.2,
    val: Annotated[float, typer.Option(help="Share of frames in the val split.")] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same images and labels.")] = 0,
    camera: Annotated[str | None, typer.Option(
        help="Polarimetric camera file or built-in name (default: the domain's: ideal / shifted_dofp).")] = None,
    bits: Annotated[int | None, typer.Option(
        help="Polarimetric depth: 8, 12 (in 16-bit PNGs) or 16 (default: the domain's: 16 / 12).")] = None,
    dofp: Annotated[bool | None, typer.Option(
        "--dofp/--no-dofp", help="Simulate the camera's DoFP mosaic and demosaicing (default: the domain's: "
                                 "off / on).")] = None,
    noise: Annotated[bool, typer.Option(
        help="Sensor noise. --no-noise --no-dofp with the same seed renders the noise-free 'truth' twins.")] = True,
    masks: Annotated[bool, typer.Option(
        help="Also write per-pixel surface labels (SET/masks/{split}/NAME.png, legend in SET/masks/masks.json).")
    ] = False,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: one per core).")] = None,
) -> None:
    """Render labelled road scenes: an RGB set (BDD100K or KITTI layout), a polarimetric set, or both."""
    from polaraug.cameras import load_camera
    from polaraug.synth.domain import get_domain
    from polaraug.synth.generate import SynthConfig, domain_sensor, generate

    with user_errors():
        width, height = parse_size(size)
        dom = get_domain(domain)
        cam = load_camera(camera or dom.camera)
        sensor = domain_sensor(dom, cam, bits=bits, dofp=dofp, noise=noise)
        cfg = SynthConfig(n=n, width=width, height=height, seed=seed, mode=mode, rgb_layout=layout,
                          weather=weather, night_fraction=night, val_fraction=val, domain=dom.name, camera=cam,
                          sensor=sensor, masks=masks)
        summary = generate(cfg, out, workers=workers)
    typer.echo(f"wrote {sum(summary['frames'].values())} frames to {out} "
               f"({', '.join(f'{k}: {v}' for k, v in summary['frames'].items())}; domain {summary['domain']})")
    typer.echo("boxes: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["boxes"].items())))
