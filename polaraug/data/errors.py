"""Bad input: errors that name the file (and line), and the skip report of ``--skip-bad`` runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from polaraug.errors import InputError


class DatasetError(InputError):
    """Malformed dataset input. ``str()`` reads ``FILE[:LINE]: what is wrong``."""

    def __init__(self, path: str | Path, message: str, line: int | None = None):
        self.path, self.line, self.reason = Path(path), line, message
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


@dataclass
class SkipReport:
    """What a ``skip_bad`` run passed over: one entry per skipped frame or label."""

    skipped: list[str] = field(default_factory=list)

    def add(self, error: Exception) -> None:
        self.skipped.append(str(error))

    def __len__(self) -> int:
        return len(self.skipped)


def handle(error: Exception, report: SkipReport | None) -> None:
    """Raise ``error``, or record it when a skip report is given (the caller then skips the item)."""
    if report is None:
        raise error
    report.add(error)
