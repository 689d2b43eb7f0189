"""Reading vendor CSV files by column name, line by line, and counting problems per file.

Vendor exports change their columns between versions: new columns appear,
optional ones go, the order changes, the case of a name changes. So columns are
found by *name*, compared after :func:`normalise` (case, surrounding spaces
and quotes, runs of whitespace), never by position; a missing required column
stops the file with a :class:`ConnectorError` naming it and the header line.

Rows are decoded line by line (strict UTF-8, a byte-order mark allowed on the
first line; any line ending; a line length limit), so a file in another
encoding is refused with the line where it fails, and memory does not grow
with the file.

:class:`FileProblems` collects a file's rejected values by reason with the
first line or record where each occurred; they reach the :class:`ReadReport`
as ``"<reason> (<file>, first at line N)"``, so a report names where to look
without one entry per bad row.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from .base import ConnectorError, ReadReport, not_a_number
from .export_tree import ExportFile
from .lines import decode_line, numbered_lines

_SPACES = re.compile(r"\s+")


def normalise(name: str) -> str:
    """A column name as compared: lower case, single spaces, no quotes or BOM."""
    return _SPACES.sub(" ", name.replace("\ufeff", "").strip().strip('"').strip()).lower()


@dataclass
class Header:
    """The header line of a CSV file, looked up by normalised name."""

    file: ExportFile
    line: int
    names: list[str]
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {}
        for position, name in enumerate(self.names):
            self.index.setdefault(normalise(name), position)

    def find(self, *candidates: str) -> int | None:
        """Position of the first candidate name present (normalised), else None."""
        for candidate in candidates:
            position = self.index.get(normalise(candidate))
            if position is not None:
                return position
        return None

    def require(self, *candidates: str) -> int:
        position = self.find(*candidates)
        if position is None:
            raise ConnectorError(
                self.file.label,
                f"missing required column {candidates[0]!r} (columns: {', '.join(self.names)[:300]})",
                line=self.line,
            )
        return position

    def find_prefixed(self, suffix: str) -> int | None:
        """A column named ``suffix`` or ``<any.dotted.prefix>.suffix`` (Samsung's style)."""
        found = self.find(suffix)
        if found is not None:
            return found
        wanted = "." + normalise(suffix)
        for name, position in self.index.items():
            if name.endswith(wanted):
                return position
        return None


def decoded_lines(file: ExportFile, handle: IO[bytes], first_line: int = 1) -> Iterator[str]:
    """Lines of a binary stream as text, each ending in ``\n`` whatever the file used
    (:mod:`connectors.lines`: length limit, strict UTF-8, no NUL bytes)."""
    for number, raw, _done in numbered_lines(handle, file.label, first_line=first_line):
        yield decode_line(raw, file.label, number, first=number == 1) + "\n"


def csv_rows(
    file: ExportFile,
    *,
    delimiter: str | None = None,
    skip_lines: int = 0,
) -> Iterator[tuple[Header, int, list[str]]]:
    """``(header, line number, fields)`` for each non-blank data row.

    ``skip_lines`` lines before the header are ignored (Samsung's metadata
    line); ``delimiter`` None means ``,`` or ``;``, whichever the header uses
    more. An empty file, or one with only a header, is an error.
    """
    with file.open() as handle:
        lines = decoded_lines(file, handle)
        for _ in range(skip_lines):
            if next(lines, None) is None:
                raise ConnectorError(file.label, "empty file")
        header_text = next(lines, None)
        while header_text is not None and not header_text.strip():
            header_text = next(lines, None)
        if header_text is None:
            raise ConnectorError(file.label, "empty file")
        header_line = skip_lines + 1
        if delimiter is None:
            delimiter = ";" if header_text.count(";") > header_text.count(",") else ","
        try:
            names = next(csv.reader([header_text], delimiter=delimiter), [])
        except csv.Error as exc:
            raise ConnectorError(file.label, f"malformed CSV header: {exc}", line=header_line) from None
        header = Header(file, header_line, names)
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            for fields in reader:
                if fields and any(f.strip() for f in fields):
                    yield header, header_line + reader.line_num, fields
        except csv.Error as exc:
            raise ConnectorError(
                file.label, f"malformed CSV: {exc}", line=header_line + reader.line_num
            ) from None


def cell(fields: list[str], position: int | None) -> str:
    """The stripped text at ``position``; '' when the column is absent or the row short."""
    if position is None or position >= len(fields):
        return ""
    return fields[position].strip()


def number(text: str) -> float | None:
    """A float from a CSV cell, or None when empty; raises ValueError when not a number."""
    text = text.strip().strip('"')
    if not text or text.lower() in ("null", "none", "nan", "n/a"):
        return None
    return float(text)


@dataclass
class FileProblems:
    """Rejections of one file, by reason, with where each reason first occurred."""

    file: ExportFile
    unit: str = "line"  # what an integer position counts: "line" (CSV) or "record" (JSON)
    counts: dict[str, int] = field(default_factory=dict)
    first: dict[str, str] = field(default_factory=dict)

    def add(self, reason: str, where: str | int | None, count: int = 1) -> None:
        if count <= 0:
            return
        self.counts[reason] = self.counts.get(reason, 0) + count
        if reason not in self.first and where is not None:
            self.first[reason] = f"{self.unit} {where}" if isinstance(where, int) else where

    def bounds(
        self,
        values: np.ndarray,
        low: float,
        high: float,
        reason: str,
        where: list[int] | np.ndarray | None = None,
        *,
        metric: str | None = None,
    ) -> np.ndarray:
        """Mask of finite values within [low, high]; the rest counted as ``reason``,
        except values that are not finite numbers, counted as ``<metric> is not a
        number`` when ``metric`` is given."""
        finite = np.isfinite(values)
        ok = finite & (values >= low) & (values <= high)
        nan_reason = not_a_number(metric) if metric is not None else reason
        for why, bad in ((nan_reason, np.flatnonzero(~finite)), (reason, np.flatnonzero(finite & ~ok))):
            if bad.size:
                first = int(np.asarray(where)[bad[0]]) if where is not None else None
                self.add(why, first, int(bad.size))
        return ok

    def flush(self, report: ReadReport) -> None:
        for reason, count in self.counts.items():
            first = self.first.get(reason)
            place = f", first at {first}" if first else ""
            report.reject(f"{reason} ({self.file.path}{place})", count)
        self.counts.clear()
        self.first.clear()
