"""Reading zip exports safely: stream members, never extract, refuse bombs and slips.

Wearable exports arrive as zips (Apple Health ``export.zip``, a Garmin Connect
data export, an Empatica session). They are read member by member through
``ZipFile.open``; nothing is written to disk. Before any member is read the
whole central directory is checked:

* a member name that is absolute or climbs out with ``..`` (zip-slip) is refused;
* a member that is a symbolic link (Unix mode in its external attributes) is
  refused: nothing is extracted, but a link's "content" is only its target
  path, and real exports never hold one;
* a member whose declared uncompressed size is over ``MAX_RATIO`` times its
  compressed size is refused (zip bomb), as is an archive whose declared total
  is over ``max_total_bytes``.

``zipfile`` itself stops a member at its declared size and checks its CRC, so a
member cannot inflate past what the directory declares.
"""

from __future__ import annotations

import posixpath
import stat
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from .base import ConnectorError

#: Compression ratio above which a member is treated as a bomb. Real exports
#: compress XML about 10-25x; 100x leaves generous room.
MAX_RATIO = 100
#: Members smaller than this are never refused for their ratio (a few KB of
#: zeros legitimately compress very well).
RATIO_FLOOR_BYTES = 1 << 20
#: Default ceiling for the declared uncompressed total of one archive.
MAX_TOTAL_BYTES = 64 << 30


#: Everything reading a (possibly damaged) zip member can raise: a bad header,
#: a CRC mismatch, a short read, corrupt deflate data.
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zipfile.BadZipFile, zlib.error)


def is_zip(path: Path) -> bool:
    return path.is_file() and zipfile.is_zipfile(path)


def open_checked(path: Path, max_total_bytes: int = MAX_TOTAL_BYTES) -> zipfile.ZipFile:
    """Open ``path`` as a zip after checking every member for slips and bombs."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ConnectorError(path, f"not a readable zip archive: {exc}") from exc
    try:
        check(archive, str(path), max_total_bytes)
    except BaseException:
        archive.close()
        raise
    return archive


def open_nested(
    outer: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, max_total_bytes: int = MAX_TOTAL_BYTES
) -> zipfile.ZipFile:
    """A zip stored inside ``outer`` (already checked), opened without extracting it.

    The member is read as a stream: ``zipfile`` can seek in it (a backward
    seek re-reads from its start, so members should be read in
    ``header_offset`` order). The inner zip gets the same checks as an outer
    one, against ``max_total_bytes`` (what is left of the caller's budget).
    """
    try:
        archive = zipfile.ZipFile(outer.open(info))
    except READ_ERRORS as exc:
        raise ConnectorError(label, f"not a readable zip archive: {exc}") from exc
    try:
        check(archive, label, max_total_bytes)
    except BaseException:
        archive.close()
        raise
    return archive


def declared_total(archive: zipfile.ZipFile) -> int:
    return sum(info.file_size for info in archive.infolist())


def check(archive: zipfile.ZipFile, label: str, max_total_bytes: int) -> None:
    """Refuse slips, bombs and an oversized declared total (see the module docstring)."""
    total = 0
    for info in archive.infolist():
        _check_name(label, info.filename)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise ConnectorError(label, f"refused: member {info.filename!r} is a symbolic link")
        total += info.file_size
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ConnectorError(
                label,
                f"refused as a zip bomb: member {info.filename!r} declares "
                f"{info.file_size} bytes from {info.compress_size} compressed "
                f"(ratio over {MAX_RATIO})",
            )
    if total > max_total_bytes:
        raise ConnectorError(
            label, f"refused: declared uncompressed size {total} bytes is over the limit of {max_total_bytes}"
        )


def _check_name(path: Path | str, name: str) -> None:
    pure = PurePosixPath(name.replace("\\", "/"))
    normalised = posixpath.normpath(str(pure))
    drive_letter = bool(pure.parts) and ":" in pure.parts[0]
    if pure.is_absolute() or normalised == ".." or normalised.startswith("../") or drive_letter:
        raise ConnectorError(path, f"refused: unsafe member path {name!r} (zip-slip)")


def members(archive: zipfile.ZipFile, suffix: str = "") -> Iterator[zipfile.ZipInfo]:
    """Regular-file members whose name ends with ``suffix`` (case-insensitive)."""
    suffix = suffix.lower()
    for info in archive.infolist():
        if not info.is_dir() and info.filename.lower().endswith(suffix):
            yield info
