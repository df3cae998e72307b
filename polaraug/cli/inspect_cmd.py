"""``polaraug inspect``: the first thing to run on a new camera."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors


def inspect(
    file: Annotated[Path | None, typer.Argument(help="Capture: raw DoFP mosaic (H, W), 4-channel image, or NAME_0 "
                                                     "of per-angle RGB images (colour).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for maps, pictures and summary.json.")] = Path(
        "inspect_out"
    ),
    calibration: Annotated[
        str | None,
        typer.Option(help="Camera file or built-in name (ideal, sony_imx250mzr, polarcam_4d). "
                     "Default: ideal for 4-channel images; required for raw mosaics."),
    ] = None,
    demosaic: Annotated[str, typer.Option(help="DoFP demosaicing: bilinear or superpixel.")] = "bilinear",
    fmt: Annotated[str, typer.Option("--format", help="Float map format: tiff or npy.")] = "tiff",
    example: Annotated[
        bool, typer.Option("--example", help="Inspect a built-in synthetic DoFP capture (writes it to OUT first).")
    ] = False,
) -> None:
    """Write s0, s1, s2, DoLP, AoLP (float32) and colour pictures of a capture, and print a summary."""
    from polaraug.inspect import inspect_file

    with user_errors():
        summary = inspect_file(file, out, calibration=calibration, demosaic=demosaic, fmt=fmt, example=example)
    if isinstance(summary, dict):  # a colour capture: one summary per colour and for the luminance
        for part, s in summary.items():
            typer.echo(f"[{part}]")
            for line in s.lines()[1:]:
                typer.echo(f"  {line}")
        typer.echo(f"wrote {out}/{{{','.join(summary)}}}/: s0 s1 s2 dolp aolp .{fmt}, PNG pictures, summary.json")
        return
    for line in summary.lines():
        typer.echo(line)
    typer.echo(f"wrote {out}/: s0 s1 s2 dolp aolp .{fmt}, PNG pictures, summary.json")
