"""Bad input: errors that name the file (and line), and the skip report of ``--skip-bad`` runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from polaraug.errors import InputError

MAX_REASON = 400  # characters of a reason: messages quote the file's content, which may be a megabyte on one line


class DatasetError(InputError):
    """Malformed dataset input. ``str()`` reads ``FILE[:LINE]: what is wrong`` (what is wrong cut after
    MAX_REASON characters)."""

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        if len(message) > MAX_REASON:
            message = message[:MAX_REASON] + " [...]"
        self.path, self.line, self.reason = Path(path), line, message
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


class BoxDropped(DatasetError):
    """One label a reader leaves out while keeping its frame (a class it does not know, a box with no area
    inside the image, as converted datasets have at image borders). ``reason`` is the kind, for counts."""


@dataclass
class SkipReport:
    """What a ``skip_bad`` run passed over: one entry per skipped frame or label, and the count of boxes
    dropped from frames that were kept, by reason."""

    skipped: list[str] = field(default_factory=list)
    dropped_boxes: dict[str, int] = field(default_factory=dict)

    def add(self, error: Exception) -> None:
        self.skipped.append(str(error))

    def drop(self, reason: str) -> None:
        self.dropped_boxes[reason] = self.dropped_boxes.get(reason, 0) + 1

    def __len__(self) -> int:
        return len(self.skipped)


def handle(error: Exception, report: SkipReport | None) -> None:
    """Raise ``error``, or record it when a skip report is given (the caller then skips the item)."""
    if report is None:
        raise error
    report.add(error)
