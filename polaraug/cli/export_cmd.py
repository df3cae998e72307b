"""``polaraug export-yolo``: a polarimetric set -> an ultralytics YOLO dataset in one encoding."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors


def export_yolo(
    src: Annotated[Path, typer.Argument(help="Polarimetric set in polaraug's layout (manifest.json).")],
    out: Annotated[Path, typer.Argument(help="YOLO dataset folder (data.yaml, images/, labels/).")],
    encoding: Annotated[str, typer.Option(help="intensities (4 channels), stokes, i0-i45-i90 or hsv.")]
    = "intensities",
) -> None:
    """Export for training with ultralytics (data.yaml carries 'channels'); ignore boxes are left out."""
    from polaraug.data.export.encoded import export_encoded
    from polaraug.data.polarset import read_polarset

    with user_errors():
        report = export_encoded(read_polarset(src), out, encoding)
    typer.echo(f"exported {sum(report.frames.values())} frames ({report.frames}), {report.boxes} boxes, "
               f"{report.ignored_boxes_dropped} ignore boxes left out; {out / 'data.yaml'}")
