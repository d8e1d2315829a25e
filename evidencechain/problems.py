"""Located problems: what `check` reports, one per line, in compiler style."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One finding in one file, with the place a user's editor can jump to."""

    file: PurePosixPath
    line: int
    col: int
    level: str
    message: str
    json_path: str = ""

    def format(self) -> str:
        """`file:line:col: level: $.path: message` (path omitted when there is none)."""
        where = f"{self.file}:{self.line}:{self.col}" if self.line else str(self.file)
        path = f"{self.json_path}: " if self.json_path else ""
        return f"{where}: {self.level}: {path}{self.message}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready record for `--format json`."""
        return {
            "file": str(self.file),
            "line": self.line,
            "col": self.col,
            "level": self.level,
            "path": self.json_path,
            "message": self.message,
        }


def has_errors(problems: list[Problem]) -> bool:
    """True when any problem is an error (warnings do not fail a check)."""
    return any(p.level == ERROR for p in problems)


def repeated_ids(ids: Iterable[str]) -> Iterator[tuple[int, str, int]]:
    """`(index, id, index of its first use)` for every id used a second time or more."""
    first: dict[str, int] = {}
    for index, identifier in enumerate(ids):
        if identifier in first:
            yield index, identifier, first[identifier]
        first.setdefault(identifier, index)
