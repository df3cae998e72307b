"""``python -m polaraug ...`` (e.g. ``torchrun --nproc_per_node=2 -m polaraug train ...``)."""

from polaraug.cli import app

app()
