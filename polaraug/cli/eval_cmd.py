"""``polaraug eval-translator``: paired evaluation of a translator checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors
from .translate_cmd import _Mirror, _Spin, averaging_option


def eval_translator(
    checkpoint: Annotated[Path, typer.Option(help="Translator checkpoint (RUN/checkpoints/last.pt, or "
                                                  "'default': the built-in translator).")],
    paired: Annotated[Path, typer.Option(help="Paired set from 'polaraug synth --mode paired'.")],
    split: Annotated[str, typer.Option(help="Split to score.")] = "val",
    limit: Annotated[int | None, typer.Option(help="Score at most this many frames.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the scores as JSON here.")] = None,
    clean: Annotated[Path | None, typer.Option(help="Polarimetric set of noise-free twins of the same frames "
                                                    "('polaraug synth --no-noise --no-dofp', same seed): scored "
                                                    "too.")] = None,
    pictures: Annotated[Path | None, typer.Option(help="Write labelled full-resolution comparisons here (RGB | s0 "
                                                       "| DoLP | AoLP | true DoLP | true AoLP | error).")] = None,
    spin: _Spin = 1,
    mirror: _Mirror = False,
) -> None:
    """PSNR/SSIM per channel, DoLP error, AoLP error, admissibility and residual on paired data."""
    from polaraug.io.atomic import write_text
    from polaraug.translate import load_translator
    from polaraug.translate.evaluate import evaluate

    averaging = averaging_option(spin, mirror)
    with user_errors():
        model, _ = load_translator(checkpoint)
        scores = evaluate(model, paired, split=split, limit=limit, clean=clean, pictures=pictures,
                          averaging=averaging)
        if json_out:
            write_text(json_out, json.dumps({"checkpoint": str(checkpoint), "mode": model.cfg.mode,
                                             "head": model.cfg.head, "averaging": averaging.to_dict(),
                                             **scores.to_dict()}, indent=2) + "\n")
    for line in scores.lines():
        typer.echo(line)
