"""Training logs that survive a resume: a CSV that drops rows past the resumed step, and TensorBoard with
the same rule."""

from __future__ import annotations

import csv
from pathlib import Path

from polaraug.io.atomic import write_text


class ResumableCsv:
    """Append-only CSV that, on resume, first drops rows past the resumed step.

    Args:
        path: the CSV file (created on the first row).
        resume_step: the step of the checkpoint the run resumes from (0 for a new run).
    """

    def __init__(self, path: Path, resume_step: int):
        self.path, self.fields = path, None
        if path.exists():
            rows = list(csv.DictReader(path.open()))
            keep = [r for r in rows if int(r["step"]) <= resume_step]
            self.fields = list(rows[0]) if rows else None
            if len(keep) != len(rows):
                text = "" if not keep else ",".join(self.fields) + "\n" + "".join(
                    ",".join(r[f] for f in self.fields) + "\n" for r in keep)
                write_text(path, text)
            if not keep:
                self.fields = None  # the next row writes the header again

    def write(self, row: dict) -> None:
        """Append ``row`` (its keys fix the columns of a new file; later extra keys are ignored)."""
        new = self.fields is None
        if new:
            self.fields = list(row)
        with self.path.open("a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow(row)


def open_tensorboard(folder: Path, start: int):
    """A SummaryWriter whose events past ``start`` (from a run that went on after its last checkpoint)
    are superseded; None if tensorboard is missing."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # pragma: no cover - tensorboard is a declared dependency
        return None
    return SummaryWriter(str(folder), purge_step=start + 1)  # events up to ``start`` are the checkpoint's
