"""``polaraug inspect``: the first thing to run on a new camera."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from ._errors import user_errors


def inspect(
    file: Annotated[Path | None, typer.Argument(help="Capture: raw DoFP mosaic (H, W) or 4-channel image.")] = None,
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
    from polaraug.cameras import load_camera
    from polaraug.inspection import inspect_capture
    from polaraug.io.capture import read_capture

    with user_errors():
        if example == (file is not None):
            raise ValueError("give either a capture FILE or --example")
        if example:
            camera = load_camera(calibration or "sony_imx250mzr")
            file = _write_example(out, camera)
        else:
            camera = load_camera(calibration or "ideal")
        cap = read_capture(file, camera, demosaic)
        summary = inspect_capture(cap, camera, out, fmt)
    for line in summary.lines():
        typer.echo(line)
    typer.echo(f"wrote {out}/: s0 s1 s2 dolp aolp .{fmt}, PNG pictures, summary.json")


def _write_example(out: Path, camera) -> Path:
    """Render the synthetic test pattern through ``camera`` into an 8-bit raw mosaic (or 4-channel PNG)."""
    from polaraug.io.images import write_image
    from polaraug.physics import intensities_from_stokes, mosaic
    from polaraug.synth import polarized_test_pattern

    y = intensities_from_stokes(polarized_test_pattern(), camera.matrix())
    y8 = np.round(np.clip(y, 0, 1) * 255).astype(np.uint8)
    img = mosaic(y8, camera.dofp_pattern) if camera.dofp_pattern is not None else y8
    return write_image(out / "example_capture.png", img)
