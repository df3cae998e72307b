"""The built-in translator: a Stokes-head translator shipped inside the package, so that ``polaraug
translate SRC OUT`` works on a fresh install. ``default`` names it wherever a checkpoint is taken.

It is trained by ``pipelines/default_translator.yaml`` (paired renders made while it trains); its model
card, ``polaraug/weights/default_translator.md``, says on what, for how long, its held-out scores and what it
is not good at.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

DEFAULT = "default"
FILE = "default_translator.pt"
CARD = "default_translator.md"


def builtin_translator() -> Path:
    """The shipped checkpoint's path."""
    return Path(str(resources.files("polaraug") / "weights" / FILE))


def model_card() -> Path:
    """The shipped model card's path."""
    return Path(str(resources.files("polaraug") / "weights" / CARD))


def is_default(path: str | os.PathLike | None) -> bool:
    """Whether ``path`` names the built-in translator (``default``, unless a file of that name exists here)."""
    return path is not None and str(path) == DEFAULT and not Path(DEFAULT).exists()


def resolve_checkpoint(path: str | os.PathLike | None) -> Path:
    """A checkpoint argument as a file: ``default`` (or None) is the built-in translator.

    Args:
        path: a checkpoint path, ``default`` or None.

    Returns:
        The file to read.
    """
    if path is None or is_default(path):
        return builtin_translator()
    return Path(path)


def translator_name(path: str | os.PathLike) -> str:
    """How a translated set's manifest and ``translate`` name the translator: ``default (built-in)`` for the
    shipped one, else the checkpoint's path."""
    path = Path(path)
    shipped = builtin_translator()
    if path.exists() and shipped.exists() and path.resolve() == shipped.resolve():
        return "default (built-in)"
    return str(path)
