"""One problem that a check found in a clinic's files: ``rules check`` and the language
reviews report them alike, each with its file, line and field. Data only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem: an error (``rules check`` exits 1) or a warning (printed, exit 0)."""

    severity: Severity
    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}, line {self.line}"
        what = f", field '{self.field}'" if self.field else ""
        return f"{self.severity}: {where}{what}: {self.message}"

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }
