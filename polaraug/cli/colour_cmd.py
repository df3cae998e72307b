"""``polaraug colour-pairs``: a colour polarization capture set -> paired RGB <-> polarimetric training data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors


def colour_pairs(
    src: Annotated[Path, typer.Argument(help="Colour captures: NAME_0/45/90/135 RGB images, or raw colour "
                                             "mosaics (with a camera that has colour_dofp_pattern).")],
    out: Annotated[Path, typer.Argument(help="Paired folder to write: OUT/rgb and OUT/polar (train --paired).")],
    calibration: Annotated[str, typer.Option(help="Camera file or built-in name (sony_imx250myr for raw "
                                                  "IMX250MYR mosaics).")] = "ideal",
    weights: Annotated[str, typer.Option(help="R,G,B weights of the mono polarimetric twin.")] = "0.299,0.587,0.114",
    bits: Annotated[int, typer.Option(help="Polarimetric PNG depth: 8 or 16.")] = 16,
    rgb_encoding: Annotated[str, typer.Option(help="RGB side: srgb (as a camera's JPEG or a BDD100K frame, what "
                                                   "translators see) or linear (the sensor's s0 / 2).")] = "srgb",
    json_out: Annotated[Path | None, typer.Option("--json", help="Per-frame, per-colour statistics as JSON.")]
    = None,
) -> None:
    """Split each colour polarization capture into an RGB image (each colour's s0 / 2) and its mono
    polarimetric twin (the luminance mix), and print per-colour statistics (s0, DoLP, AoLP, admissibility,
    residual) of the captures."""
    import numpy as np

    from polaraug.cameras import load_camera
    from polaraug.colour import colour_to_pairs
    from polaraug.errors import ConfigError
    from polaraug.io.atomic import write_text

    with user_errors():
        try:
            w = tuple(float(v) for v in weights.split(","))
        except ValueError:
            raise ConfigError(f"--weights must be three numbers like 0.299,0.587,0.114, got {weights!r}") from None
        if len(w) != 3 or min(w) < 0 or sum(w) <= 0:
            raise ConfigError(f"--weights must be three non-negative numbers, got {weights!r}")
        if bits not in (8, 16):
            raise ConfigError(f"--bits must be 8 or 16, got {bits}")
        if rgb_encoding not in ("srgb", "linear"):
            raise ConfigError(f"--rgb-encoding must be srgb or linear, got {rgb_encoding!r}")
        camera = load_camera(calibration)
        report = colour_to_pairs(src, out, camera, weights=w, bits=bits, rgb_encoding=rgb_encoding)
        stats = report.stats
    typer.echo(f"wrote {report.written} pairs into {out} (rgb/, polar/); {len(report.unreadable)} unreadable")
    for line in report.unreadable:
        typer.echo(f"  skipped: {line}")
    typer.echo(f"{'channel':<10} {'s0':>7} {'DoLP':>7} {'AoLP°':>7} {'inadm.':>8} {'residual':>9}  (mean over frames)")
    for ch in ("R", "G", "B", "luminance"):
        rows = [s[ch] for s in stats.values()]
        if rows:
            m = {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}
            typer.echo(f"{ch:<10} {m['s0_mean']:7.3f} {m['dolp_mean']:7.3f} {m['aolp_mean_deg']:7.1f} "
                       f"{100 * m['inadmissible_fraction']:7.3f}% {m['residual_rms']:9.2e}")
    if json_out:
        write_text(json_out, json.dumps(stats, indent=1) + "\n")
