"""The ``polaraug`` command line (typer). Each command lives in its own module; this one wires them up."""

from __future__ import annotations

import typer

from . import (
    calibrate_cmd,
    colour_cmd,
    coverage_cmd,
    detect_cmd,
    eval_cmd,
    export_cmd,
    inspect_cmd,
    ood_cmd,
    reconstruct_cmd,
    run_cmd,
    synth_cmd,
    train_cmd,
    translate_cmd,
    validate_cmd,
)

app = typer.Typer(
    name="polaraug",
    help="Turn labelled RGB road-scene datasets into physically valid polarimetric datasets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("inspect")(inspect_cmd.inspect)
app.command("synth")(synth_cmd.synth)
app.command("train")(train_cmd.train)
app.command("eval-translator")(eval_cmd.eval_translator)
app.command("translate")(translate_cmd.translate)
app.command("validate")(validate_cmd.validate)
app.command("export-yolo")(export_cmd.export_yolo)
app.command("eval-detection")(detect_cmd.eval_detection)
app.command("colour-pairs")(colour_cmd.colour_pairs)
app.command("coverage")(coverage_cmd.coverage)
app.command("run")(run_cmd.run)
app.command("demo")(run_cmd.demo)
app.add_typer(calibrate_cmd.app, name="calibrate")
app.add_typer(ood_cmd.app, name="ood")
app.add_typer(reconstruct_cmd.app, name="reconstruct")


@app.command("version")
def version() -> None:
    """Print polaraug's version."""
    from polaraug import __version__

    typer.echo(__version__)


def _print_version(value: bool) -> None:
    if value:
        version()
        raise typer.Exit()


@app.callback()
def main(
    show_version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                      help="Print polaraug's version and exit."),
) -> None:
    """Turn labelled RGB road-scene datasets into physically valid polarimetric datasets."""
