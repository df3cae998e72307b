"""A polaraug-layout set without its most out-of-distribution frames (``polaraug ood filter``).

Kept images are hard-linked (else copied), their labels and the manifest rewritten; every frame's score and
whether it was kept go to ``OUT/ood_scores.json``. The source set is never modified; the new set is written
beside OUT and renamed into place at the end.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import shutil
from pathlib import Path

import torch
from tqdm import tqdm

from polaraug.data.polarset import PolarSetWriter, read_polarset
from polaraug.errors import ConfigError, InputError
from polaraug.io.atomic import link_or_copy, write_text

from .model import OODModel


def select(scores: dict[str, float], *, drop: float | None = None, max_ood: float | None = None) -> set[str]:
    """The frames to keep: all but the ``drop`` share with the highest scores (ties broken by name), or
    those scoring at most ``max_ood``.

    Raises:
        ConfigError: neither or both criteria, or ``drop`` outside [0, 1).
    """
    if (drop is None) == (max_ood is None):
        raise ConfigError("give exactly one of --drop (a share of frames) and --max-ood (a score)")
    if max_ood is not None:
        return {k for k, v in scores.items() if v <= max_ood}
    if not 0 <= drop < 1:
        raise ConfigError(f"--drop must be in [0, 1), got {drop}")
    ranked = sorted(scores, key=lambda k: (-scores[k], k))
    return set(ranked[math.floor(len(ranked) * drop):])


def filter_set(src: str | Path, out: str | Path, model: OODModel, *, drop: float | None = None,
               max_ood: float | None = None, progress: bool = True) -> dict:
    """Score every frame of ``src`` and write the kept ones as a new set ``out``.

    Args:
        src: a polaraug-layout set (e.g. ``polaraug translate`` output).
        out: the filtered set (must not exist, or be empty).
        model: the OOD model.
        drop, max_ood: the criterion (see :func:`select`).
        progress: show a progress bar.

    Returns:
        {``kept``, ``dropped``, ``scores``: {split/name: score}}, as written to ``OUT/ood_scores.json``.

    Raises:
        InputError: ``src`` is not a polaraug set, ``out`` holds files, or a frame too small to score.
    """
    src, out = Path(src), Path(out)
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out}: not empty; the filtered set needs a new folder")
    # written beside OUT and renamed at the end: an interrupted run leaves no half set in OUT
    part = out.parent / f".{out.name}.partial"
    if part.exists():
        shutil.rmtree(part)  # an earlier interrupted run's
    ps = read_polarset(src)
    frames = [f for split in ps.splits for f in ps.frames(split)]
    scores: dict[str, float] = {}
    for f in tqdm(frames, disable=not progress, unit="frame", desc="ood filter"):
        x = torch.from_numpy(ps.load(f)).permute(2, 0, 1)[None] * 2 - 1
        if min(x.shape[-2:]) < model.min_side:
            raise InputError(f"{f.image}: {tuple(x.shape[-2:])} is too small to score (at least {model.min_side} px)")
        scores[f"{f.split}/{f.stem}"] = float(model.score(x.float())[0])
    keep = select(scores, drop=drop, max_ood=max_ood)
    if not keep:
        raise InputError(f"{src}: the criterion drops all {len(frames)} frames")
    writer = PolarSetWriter(part, dataclasses.replace(ps.camera, bit_depth=ps.bits), bits=ps.bits,
                            created_by="polaraug ood filter",
                            extra={"source": str(src.resolve()), "ood_model": model.source, "drop": drop,
                                   "max_ood": max_ood, "dropped": len(frames) - len(keep)})
    for f in frames:
        if f"{f.split}/{f.stem}" in keep:
            writer.register(dataclasses.replace(f, image=link_or_copy(f.image, writer.image_path(f.split, f.stem))))
    doc = {"kept": len(keep), "dropped": len(frames) - len(keep),
           "scores": {k: {"ood": v, "kept": k in keep} for k, v in scores.items()}}
    write_text(part / "ood_scores.json", json.dumps(doc, indent=1) + "\n")
    writer.close()  # the manifest last: a set with a manifest is complete
    if out.exists():
        out.rmdir()  # empty (checked above)
    os.replace(part, out)
    return doc
