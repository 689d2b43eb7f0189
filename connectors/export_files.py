"""The files of an account export, whether it arrived as a folder, a zip or one file.

Account exports (Polar Flow, Garmin Connect) are many small JSON files, and
people import them zipped or unzipped. :func:`open_export` lists them the same
way in every case, each with a name relative to the export (for matching), a
label for messages (``export.zip!dir/file.json``) and a way to open it; zips
go through :mod:`connectors.archive`, so the zip-slip and zip-bomb checks apply.

JSON files are loaded one at a time with :func:`load_json`, which turns every
way a file can be broken into a :class:`ConnectorError` naming the file and the
line. Memory is bounded by the largest single file (``MAX_JSON_BYTES``), not by
the export.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from . import archive
from .base import ConnectorError

#: A single JSON file larger than this is refused rather than loaded (real
#: export files are kilobytes to a few tens of megabytes).
MAX_JSON_BYTES = 512 << 20


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One regular file of an export."""

    name: str  # POSIX path relative to the export root (or the zip)
    label: str  # how messages name it
    size: int
    open: Callable[[], IO[bytes]]
    #: The zip and member this file is, when it is a member (to open nested zips).
    member: tuple[zipfile.ZipFile, zipfile.ZipInfo] | None = None

    @property
    def basename(self) -> str:
        return PurePosixPath(self.name).name


@contextmanager
def open_export(path: Path) -> Iterator[list[ExportFile]]:
    """The export's files in name order; a zip stays open while the caller reads."""
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        yield [
            ExportFile(p.relative_to(path).as_posix(), str(p), p.stat().st_size, _opener(p)) for p in files
        ]
    elif archive.is_zip(path):
        with archive.open_checked(path) as zipped:
            yield zip_files(zipped, str(path))
    else:
        yield [ExportFile(path.name, str(path), path.stat().st_size, _opener(path))]


def zip_files(zipped: zipfile.ZipFile, label: str) -> list[ExportFile]:
    """The regular members of an (already checked) zip as :class:`ExportFile` s."""
    return [
        ExportFile(
            info.filename,
            f"{label}!{info.filename}",
            info.file_size,
            _member_opener(zipped, info),
            (zipped, info),
        )
        for info in sorted(archive.members(zipped), key=lambda i: i.filename)
    ]


def _opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")


def _member_opener(zipped: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], IO[bytes]]:
    return lambda: zipped.open(info)


def list_names(path: Path) -> list[str]:
    """Relative names of an export's files, cheaply (for detection); [] when unreadable."""
    if path.is_dir():
        return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    if archive.is_zip(path):
        try:
            with zipfile.ZipFile(path) as zipped:
                return [i.filename for i in zipped.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError):
            return []
    return [path.name]


def load_json(file: ExportFile) -> Any:
    """The parsed JSON of ``file``; every failure is a ConnectorError naming file and line."""
    if file.size > MAX_JSON_BYTES:
        raise ConnectorError(
            file.label,
            f"JSON file of {file.size} bytes is over the {MAX_JSON_BYTES >> 20} MB a single file may hold",
        )
    try:
        with file.open() as handle:
            # Never ask for more than the file holds: read(n) allocates n bytes first.
            data = handle.read(min(file.size, MAX_JSON_BYTES) + 1)
    except archive.READ_ERRORS as exc:
        raise ConnectorError(file.label, f"could not read the file: {exc}") from exc
    return parse_json(data, file.label)


def parse_json(data: bytes, label: str) -> Any:
    if not data.strip():
        raise ConnectorError(label, "empty file: expected JSON")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConnectorError(label, f"not UTF-8 text ({exc.reason} at byte {exc.start})", line=line) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConnectorError(
            label, f"malformed JSON: {exc.msg} (column {exc.colno})", line=exc.lineno
        ) from None
