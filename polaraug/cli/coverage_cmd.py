"""``polaraug coverage``: the weather, time of day and scene of several sets side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors


def coverage(
    sets: Annotated[list[Path], typer.Argument(help="Sets to compare: polaraug-layout sets (renders, "
                                                    "translations, captures) or RGB sources (BDD100K, ...).")],
    plot: Annotated[Path | None, typer.Option(help="Write a bar chart of the shares here (PNG).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the counts here.")] = None,
) -> None:
    """Show what each set covers (frames per weather, time of day and scene): what a real set lacks and what
    a translated set adds."""
    import json

    from polaraug.data.coverage import coverage as count
    from polaraug.data.coverage import missing_lines, plot_coverage, set_frames, table_lines
    from polaraug.io.atomic import write_text

    with user_errors():
        names = [p.name or str(p) for p in sets]
        names = [n if names.count(n) == 1 else str(p) for n, p in zip(names, sets, strict=True)]
        cov = count({n: set_frames(p) for n, p in zip(names, sets, strict=True)})
    typer.echo("\n".join(table_lines(cov)))
    for line in missing_lines(cov):
        typer.echo(line)
    if all(set(v) <= {"unknown"} for per in cov.values() for v in per.values()):
        typer.echo("no frame carries attributes (only BDD100K labels and polaraug's own sets do)")
    if plot is not None:
        typer.echo(f"chart {plot_coverage(cov, plot)}")
    if json_out is not None:
        write_text(json_out, json.dumps(cov, indent=2) + "\n")
