"""``polaraug run PIPELINE.yaml`` and ``polaraug demo``: declared pipelines, cached stage by stage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from polaraug.errors import ConfigError

from ._errors import user_errors

DEMO = Path(__file__).resolve().parent.parent / "pipelines" / "demo.yaml"


def _params(values: list[str]) -> dict:
    import yaml

    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        out[key] = yaml.safe_load(value)
    return out


def _run(pipeline: Path, out: Path | None, sets: list[str], quiet: bool) -> None:
    from polaraug.pipeline.runner import StageFailed, run_pipeline
    from polaraug.pipeline.spec import load_pipeline
    from polaraug.pipeline.summary import summary_lines

    with user_errors():
        p = load_pipeline(pipeline, out, _params(sets))
        typer.echo(f"pipeline {p.name}: {len(p.stages)} stages in {p.workdir}")
        try:
            report = run_pipeline(p, echo=not quiet, say=typer.echo)
        except StageFailed as e:
            typer.secho(f"error: {e}", err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from None
    typer.echo(f"\nran {len(report.ran)} stage(s), {len(report.cached)} cached; "
               f"{sum(report.seconds.values()):.0f} s\n")
    typer.echo("\n".join(summary_lines(p)))


def run(
    pipeline: Annotated[Path, typer.Argument(help="Pipeline YAML (see pipelines/).")],
    out: Annotated[Path | None, typer.Option(help="Work folder (default: the file's 'workdir').")] = None,
    set_: Annotated[list[str], typer.Option("--set", help="Override a parameter: KEY=VALUE (repeatable).")] = [],  # noqa: B006
    quiet: Annotated[bool, typer.Option(help="Only the stage list and the summary (logs still written).")] = False,
) -> None:
    """Run a pipeline; finished stages with unchanged settings and inputs are skipped."""
    _run(pipeline, out, set_, quiet)


def demo(
    out: Annotated[Path, typer.Option(help="Work folder.")] = Path("polaraug_demo"),
    quiet: Annotated[bool, typer.Option(help="Only the stage list and the summary.")] = False,
) -> None:
    """The whole idea on built-in synthetic data, CPU-sized: generate, translate, validate, detect,
    reconstruct; ends with a summary table and the pictures' paths."""
    _run(DEMO, out, [], quiet)
