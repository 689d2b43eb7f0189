"""One view of an export, whether it arrives as a folder, a zip or a single file.

Vendor account exports (Fitbit/Google Takeout, Samsung Health, Oura, Whoop)
are trees of many files. A connector asks for the files it wants by name and
opens each as a byte stream; it never cares whether that stream comes from
disk or from a zip member. Zips are opened through :mod:`connectors.archive`
(slip and bomb checks) and read member by member, never extracted.

:func:`list_names` is the cheap form used by detection: names only, no
checks, and never an exception.
"""

from __future__ import annotations

import functools
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from . import archive

#: Detection looks at no more than this many names of a folder (a Takeout
#: folder can hold tens of thousands of files; the families are recognisable
#: from their first few hundred).
SNIFF_NAMES = 20_000


@dataclass(frozen=True, slots=True)
class ExportFile:
    """One file of an export: its path inside the export, size, and how to open it."""

    path: str  # POSIX path relative to the export root (the zip member name)
    size: int
    label: str  # for messages: the file on disk, or ``export.zip!member``
    opener: Callable[[], BinaryIO]

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def folder(self) -> str:
        return self.path.rsplit("/", 1)[0] if "/" in self.path else ""

    def open(self) -> BinaryIO:
        return self.opener()


@contextmanager
def open_export(path: Path) -> Iterator[list[ExportFile]]:
    """The regular files of ``path`` (folder, zip or single file), sorted by path."""
    if path.is_dir():
        files = []
        for root, _dirs, names in os.walk(path):
            for name in names:
                full = Path(root) / name
                files.append(
                    ExportFile(
                        full.relative_to(path).as_posix(), full.stat().st_size, str(full), _file_opener(full)
                    )
                )
        yield sorted(files, key=lambda f: f.path)
    elif archive.is_zip(path):
        with archive.open_checked(path) as zipped:
            yield sorted(
                (
                    ExportFile(
                        info.filename.replace("\\", "/"),
                        info.file_size,
                        f"{path}!{info.filename}",
                        _member_opener(zipped, info),
                    )
                    for info in archive.members(zipped)
                ),
                key=lambda f: f.path,
            )
    else:
        yield [ExportFile(path.name, path.stat().st_size, str(path), _file_opener(path))]


def _file_opener(path: Path) -> Callable[[], BinaryIO]:
    return lambda: path.open("rb")


def _member_opener(zipped: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[], BinaryIO]:
    return lambda: zipped.open(info)  # type: ignore[return-value]


def list_names(path: Path) -> list[str]:
    """POSIX paths of the files in a folder or zip (a lone file: its name); [] on any error.

    A zip's names are cached by path, size and modification time: detection
    asks every connector in turn, and its directory is worth reading once. (A
    folder is walked each time: its own time does not change with nested files.)
    """
    if not path.is_file():
        return _list_names(path)
    try:
        stat = path.stat()
    except OSError:
        return []
    return list(_names(str(path), stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=4)
def _names(path_text: str, _size: int, _mtime_ns: int) -> tuple[str, ...]:
    return tuple(_list_names(Path(path_text)))


def _list_names(path: Path) -> list[str]:
    try:
        if path.is_dir():
            names: list[str] = []
            for root, _dirs, files in os.walk(path):
                base = Path(root).relative_to(path).as_posix()
                names.extend(name if base == "." else f"{base}/{name}" for name in files)
                if len(names) >= SNIFF_NAMES:
                    break
            return names
        if archive.is_zip(path):
            with zipfile.ZipFile(path) as zipped:
                return [n.replace("\\", "/") for n in zipped.namelist() if not n.endswith("/")]
        return [path.name]
    except (OSError, zipfile.BadZipFile, ValueError):
        return []


def basename(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def is_lone_file(path: Path) -> bool:
    """A single file (not a folder, not a zip): detection must then check its content."""
    return path.is_file() and not archive.is_zip(path)
