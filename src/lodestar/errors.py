"""The one error family: every Lodestar failure a user can act on derives from LodestarError."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class LodestarError(Exception):
    """Root of Lodestar's errors."""


@dataclass(frozen=True)
class Location:
    """Where in which file a problem is (1-based line and column)."""

    file: Path | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [str(self.file) if self.file else "<manifest>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class ManifestError(LodestarError):
    """A manifest is invalid: where, which field, what is wrong and how to fix it."""

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        field: str = "",
        hint: str = "",
        rule: str = "schema",
    ) -> None:
        self.message = message
        self.location = location or Location()
        self.field = field
        self.hint = hint
        self.rule = rule
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.location}: {self.field + ': ' if self.field else ''}{self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text

    def as_dict(self) -> dict[str, object]:
        return {
            "file": str(self.location.file) if self.location.file else None,
            "line": self.location.line,
            "column": self.location.column,
            "field": self.field,
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
        }


class JobError(LodestarError):
    """A Spark job or dbt run failed for a reason the user can act on.

    ``retryable`` says whether the same run could succeed later unchanged (an input that is
    not there yet); most are not: the data or the manifest has to change first.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
