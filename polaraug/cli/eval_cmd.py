"""``polaraug eval-translator``: paired evaluation of a translator checkpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ._errors import user_errors


def eval_translator(
    checkpoint: Annotated[Path, typer.Option(help="Translator checkpoint (RUN/checkpoints/last.pt).")],
    paired: Annotated[Path, typer.Option(help="Paired set from 'polaraug synth --mode paired'.")],
    split: Annotated[str, typer.Option(help="Split to score.")] = "val",
    limit: Annotated[int | None, typer.Option(help="Score at most this many frames.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the scores as JSON here.")] = None,
) -> None:
    """PSNR/SSIM per channel, DoLP error, AoLP error, admissibility and residual on paired data."""
    from polaraug.io.atomic import write_text
    from polaraug.translate import load_checkpoint
    from polaraug.translate.checkpoint import CheckpointError
    from polaraug.translate.evaluate import evaluate

    with user_errors():
        try:
            model, _ = load_checkpoint(checkpoint)
        except CheckpointError as e:
            raise ValueError(str(e)) from None
        model.eval()
        scores = evaluate(model, paired, split, limit)
        if json_out:
            write_text(json_out, json.dumps({"checkpoint": str(checkpoint), "mode": model.cfg.mode,
                                             **scores.to_dict()}, indent=2) + "\n")
    for line in scores.lines():
        typer.echo(line)
