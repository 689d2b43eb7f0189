"""Bundles: a folder or zip that holds several exports, each read by its own connector.

People hand over what they have: a folder with ``fit/``, ``apple/`` and
``empatica/`` in it, or one zip with an Apple export and a Fitbit folder. A
bundle is planned (:func:`plan`) into *parts*, each a connector and the path it
reads, and read (:class:`Bundle`) part after part: every item is yielded as
the part's connector yields it, and the :class:`ReadReport` gets, besides the
usual totals, one :class:`PartReport` per part plus a named skip for every
file no connector recognised.

How a folder is planned (each rule keeps an export whole and reads it once):

1. A connector *owns* a folder when its ``sniff`` accepts the folder and
   accepts none of its subfolders: the export is rooted right there (Apple's
   ``apple_health_export/``, an Empatica session, a folder of FIT files).
   That folder is one part for that connector; several connectors may own the
   same folder (an ``export.xml`` beside ``.fit`` files), each reading its own
   files from it.
2. Subfolders are planned too. What they hold of a format an ancestor's owner
   reads (its own format, or one listed in its ``reads_inside``, as a Garmin
   Connect export reads its nested FIT zips) is left to that owner.
3. A zip is planned on its own (:func:`plan_zip`): every connector that
   accepts the zip reads its own members from it; unless one of them reads
   the others' formats inside (``reads_inside``), they are all parts. In a
   zip with several parts, a top-level entry none of them recognises (by a
   member's name and first bytes) is skipped and named.
4. A loose file is a part for the first connector that accepts it, except
   inside an owned folder, where files of the owner's formats are the
   owner's, and so are files that only the generic text formats (``rr_text``,
   ``rr_csv``, ``hr_csv``) accept: those recognise almost any column of
   numbers, so there they are side files of the export (an Empatica
   ``tags.csv``, CSV summaries beside FIT files), not exports of their own.
5. A file no connector accepts is skipped and named, unless it lies inside an
   owned folder (its owner decides what it reads).

A path that is exactly one export keeps its connector (:func:`single`), so
single-format imports behave as before. Planning only looks at names, folder
listings and the first bytes of files; nothing is extracted.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import archive
from .base import (
    Connector,
    ConnectorError,
    Episode,
    Item,
    NothingReadable,
    PartReport,
    ReadContext,
    ReadReport,
    requires_data,
)

HEAD_BYTES = 64 * 1024
#: Formats that recognise loose text by its first line: inside a specific
#: export they are side files, not exports of their own (rule 4).
GENERIC_FORMATS = frozenset({"rr_text", "rr_csv", "hr_csv"})
#: A bundle names at most this many unrecognised files one by one; the rest
#: are counted together.
NAMED_SKIPS = 50
UNRECOGNISED = "not recognised as any supported format"


@dataclass(frozen=True, slots=True)
class Part:
    """One export inside a bundle: the connector and the path it reads."""

    connector: Connector
    path: Path

    @property
    def format(self) -> str:
        return self.connector.name


@dataclass(slots=True)
class Plan:
    """The parts of a path, and what was found but will not be read."""

    parts: list[Part] = field(default_factory=list)
    #: (file, why) for files that no part reads, in walk order.
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def extend(self, other: Plan) -> None:
        self.parts.extend(other.parts)
        self.skipped.extend(other.skipped)


def reads_inside(connector: Connector) -> frozenset[str]:
    """Formats whose files ``connector`` reads inside its own export."""
    return frozenset(getattr(connector, "reads_inside", ())) | {connector.name}


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(HEAD_BYTES)
    except OSError:
        return b""


def _accepts(connector: Connector, path: Path, head: bytes) -> bool:
    """``sniff`` that treats an unreadable path as not this format."""
    try:
        return connector.sniff(path, head)
    except (OSError, ConnectorError, zipfile.BadZipFile):
        return False


def _detect_file(path: Path, connectors: Sequence[Connector]) -> Connector | None:
    head = _head(path)
    return next((c for c in connectors if _accepts(c, path, head)), None)


def plan(path: Path, connectors: Sequence[Connector]) -> Plan:
    """The parts of ``path`` (a folder, zip or file); see the module docstring."""
    if path.is_dir():
        return _plan_folder(path, connectors, frozenset(), frozenset(), set())
    if archive.is_zip(path):
        return plan_zip(path, connectors)
    found = _detect_file(path, connectors)
    if found is None:
        return Plan(skipped=[(str(path), UNRECOGNISED)])
    return Plan(parts=[Part(found, path)])


def _plan_folder(
    folder: Path,
    connectors: Sequence[Connector],
    owners: frozenset[str],
    zip_owners: frozenset[str],
    seen: set[Path],
) -> Plan:
    """Rules 1, 2, 4 and 5.

    ``owners`` are the formats whose loose files an enclosing owner reads;
    ``zip_owners`` those whose zips it reads too (declared in ``reads_inside``:
    a folder reader does not open the zips of its own format).
    """
    result = Plan()
    real = folder.resolve()
    if real in seen:  # a symbolic link back up the tree
        return result
    seen.add(real)
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        raise ConnectorError(folder, f"cannot list the folder: {exc}") from exc
    subfolders = [e for e in entries if e.is_dir() and not e.name.startswith(".")]
    owning = [
        c
        for c in connectors
        if c.name not in owners
        and _accepts(c, folder, b"")
        and not any(_accepts(c, sub, b"") for sub in subfolders)
    ]
    result.parts.extend(Part(c, folder) for c in owning)
    owners = owners.union(*(reads_inside(c) for c in owning))
    zip_owners = zip_owners.union(*(reads_inside(c) - {c.name} for c in owning))
    for entry in entries:
        if entry.name.startswith("."):
            continue  # .DS_Store and the like
        if entry.is_dir():
            result.extend(_plan_folder(entry, connectors, owners, zip_owners, seen))
        elif entry.is_file():
            result.extend(_plan_file(entry, connectors, owners, zip_owners))
    return result


def _plan_file(
    path: Path, connectors: Sequence[Connector], owners: frozenset[str], zip_owners: frozenset[str]
) -> Plan:
    owned = bool(owners)
    if archive.is_zip(path):
        inner = plan_zip(path, connectors)
        kept = [p for p in inner.parts if p.format not in zip_owners]
        if owned and inner.parts and not kept:
            return Plan()  # e.g. the FIT zips inside a Garmin Connect export
        return Plan(parts=kept, skipped=[] if owned else inner.skipped)
    found = _detect_file(path, connectors)
    if found is None:
        return Plan() if owned else Plan(skipped=[(str(path), UNRECOGNISED)])
    if found.name in owners or (owned and found.name in GENERIC_FORMATS):
        return Plan()  # read, or counted as not read, by the folder's owner
    return Plan(parts=[Part(found, path)])


def plan_zip(path: Path, connectors: Sequence[Connector]) -> Plan:
    """Rule 3: the connectors that read their own members of the zip ``path``."""
    head = _head(path)
    accepting = [c for c in connectors if c.name not in GENERIC_FORMATS and _accepts(c, path, head)]
    covered = frozenset().union(*(reads_inside(c) - {c.name} for c in accepting))
    parts = [Part(c, path) for c in accepting if c.name not in covered]
    if len(parts) > 1:
        return Plan(parts=parts, skipped=_unrecognised_in_zip(path, [p.connector for p in parts]))
    if parts:
        return Plan(parts=parts)
    try:
        with zipfile.ZipFile(path) as zipped:
            nested = [i.filename for i in archive.members(zipped, ".zip")]
    except (zipfile.BadZipFile, OSError):
        nested = []
    why = UNRECOGNISED
    if nested:
        why += f" (it holds zips such as {nested[0]!r}: extract this zip and import its folder)"
    return Plan(skipped=[(str(path), why)])


#: Bytes of a zip member read to recognise it.
MEMBER_HEAD_BYTES = 4096


def _unrecognised_in_zip(path: Path, readers: Sequence[Connector]) -> list[tuple[str, str]]:
    """Top-level entries of a mixed zip that none of its parts recognises.

    An entry (a top-level folder, or a file at the top) is recognised when one
    of its members is, by a part's connector looking at the member's name and
    first bytes; the rest of a recognised entry is that export's own business.
    """
    groups: dict[str, list[zipfile.ZipInfo]] = {}
    try:
        with zipfile.ZipFile(path) as zipped:
            for info in archive.members(zipped):
                groups.setdefault(info.filename.split("/", 1)[0], []).append(info)
            unknown = []
            for group, infos in groups.items():
                if not any(_member_recognised(zipped, info, readers) for info in infos):
                    unknown.append((f"{path}!{group}", UNRECOGNISED))
            return unknown
    except archive.READ_ERRORS:
        return []


def _member_recognised(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, readers: Sequence[Connector]) -> bool:
    with zipped.open(info) as member:
        head = member.read(MEMBER_HEAD_BYTES)
    # A path that does not exist, so sniffers judge by the name and the bytes.
    virtual = Path("/nonexistent-zip-member") / info.filename
    return any(_accepts(c, virtual, head) for c in readers)


def single(path: Path, found: Plan) -> Connector | None:
    """The one connector that reads all of ``path`` when it is exactly one export."""
    formats = {part.format for part in found.parts}
    if len(formats) != 1:
        return None
    connector = found.parts[0].connector
    if len(found.parts) > 1 and _accepts(connector, path, b""):
        # One export that the planner split by its subfolders (a Fitbit Takeout): it is
        # rooted here, and its connector decides what it reads of it.
        return connector
    if found.skipped:
        return None
    if all(part.path == path for part in found.parts) or _accepts(connector, path, b""):
        return connector
    return None


class Bundle:
    """Reads the parts of a planned bundle in turn (see the module docstring)."""

    name = "bundle"
    description = (
        "a folder or zip holding several exports (for example fit/, apple/ and "
        "empatica/ folders); each part is read by its own connector"
    )

    def __init__(self, root: Path, found: Plan) -> None:
        self.root = root
        self.plan = found

    def sniff(self, path: Path, head: bytes) -> bool:
        return False  # a bundle is planned by detection, never sniffed

    @property
    def formats(self) -> list[str]:
        return sorted({part.format for part in self.plan.parts})

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        if path != self.root:
            raise ConnectorError(path, f"this bundle was planned for {self.root}")
        named = 0
        for file, why in self.plan.skipped:
            if named < NAMED_SKIPS:
                report.skip(f"{self._relative(file)}: {why}")
                named += 1
            else:
                report.skip(f"more files {why}")
        sizes = [_size(part.path) for part in self.plan.parts]
        report.bytes_total = sum(sizes)
        done = 0
        for part, size in zip(self.plan.parts, sizes, strict=True):
            yield from self._read_part(part, size, done, ctx, report)
            done += size
            report.progress(done)

    def _read_part(
        self, part: Part, size: int, done: int, ctx: ReadContext, report: ReadReport
    ) -> Iterator[Item]:
        result = PartReport(format=part.format, path=self._relative(str(part.path)))
        report.parts.append(result)

        def forward(sub: ReadReport) -> None:
            # Parts measure progress in their own units (an Apple zip counts
            # uncompressed XML): scale each to its share of the bundle's bytes.
            fraction = sub.bytes_read / sub.bytes_total if sub.bytes_total else 0.0
            report.progress(done + round(size * min(max(fraction, 0.0), 1.0)))

        sub = ReadReport(on_progress=forward)
        try:
            for item in part.connector.read(part.path, ctx, sub):
                if isinstance(item, Episode):
                    result.episodes += 1
                else:
                    result.samples += len(item)
                yield item
        except NothingReadable as exc:
            # One empty part does not fail the bundle; an all-empty bundle
            # fails as a whole (Bundle.read requires data too).
            report.skip(f"{self._relative(str(part.path))}: {exc.problem}")
        except ConnectorError as exc:
            raise ConnectorError(
                exc.file,
                f"{exc.problem} (in the {part.format} part {self._relative(str(part.path))} of a bundle)",
                line=exc.line,
                record=exc.record,
            ) from exc
        finally:
            result.rejected.update(sub.rejected)
            result.skipped.update(sub.skipped)
            result.notes.update(sub.notes)
            report.rejected.update(sub.rejected)
            report.skipped.update(sub.skipped)
            report.notes.update(sub.notes)
            for reason, where in sub.first_seen.items():
                report.first_seen.setdefault(reason, where)

    def _relative(self, file: str) -> str:
        """``file`` (a path, or ``zip!member``) relative to the bundle, as people see it."""
        root = str(self.root)
        if file == root or file.startswith(root + "!"):
            return self.root.name + file[len(root) :]
        if file.startswith(root + "/"):
            return file[len(root) + 1 :]
        return file


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
