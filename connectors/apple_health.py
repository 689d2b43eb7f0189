"""Apple Health exports: ``export.zip``, ``apple_health_export/`` or its ``export.xml``.

The XML is one ``<HealthData>`` element holding millions of ``<Record>``
children, behind an internal DTD. It is streamed with lxml ``iterparse``: each
top-level element is handled when it ends and then removed, so memory stays
flat however large the file is. Entities are never expanded and nothing is
fetched: the prolog is checked before parsing and any entity declaration is
refused (real exports declare none), and the parser runs with entity
resolution, DTD loading and network access off.

What is read (everything else is skipped and counted by type):

=====================================================  ======================
record type                                            stored as
=====================================================  ======================
``HKQuantityTypeIdentifierHeartRate`` (count/min)      ``heart_rate``, tagged
                                                       with the motion context
``HKQuantityTypeIdentifierHeartRateVariabilitySDNN``   ``hrv_sdnn`` (ms), and
                                                       its beat list as
                                                       ``rr_interval``
``HKQuantityTypeIdentifierRestingHeartRate``           ``resting_heart_rate``
``HKQuantityTypeIdentifierRespiratoryRate``            ``respiratory_rate``
``HKQuantityTypeIdentifierOxygenSaturation`` (0-1)     ``spo2`` (percent)
``HKCategoryTypeIdentifierSleepAnalysis``              sleep :class:`Episode`
``HKCategoryTypeIdentifierMindfulSession``             ``mindful`` episode
``electrocardiograms/*.csv``                           ``rr_interval`` (ECG)
=====================================================  ======================

Samples are timed by ``startDate``. Dates (``2024-05-04 07:00:00 +0200``) are
parsed in bulk with numpy when a batch is flushed, not one by one: on a
gigabyte export that is the difference between seconds and minutes.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import zipfile
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from lxml import etree

from . import archive as zipsafe
from .apple_beats import BeatTimeError, parse_beat_time, place_beats
from .apple_ecg import ecg_beats, parse_ecg
from .base import (
    HEART_RATE_BOUNDS_BPM,
    ConnectorError,
    Episode,
    Item,
    Metric,
    ReadContext,
    ReadReport,
    SampleBatch,
    SourceInfo,
    SourceKind,
    keep_within,
    requires_data,
    rr_batch,
)
from .localtime import MAX_OFFSET_S

#: Samples waiting, over all (source, metric, tags), before the largest
#: waiting batch is flushed: batches hold up to this many samples, and memory
#: stays the same whether an export fills them or not.
BATCH_SIZE = 50_000
#: Dates are parsed this many at a time when a batch is flushed.
_PARSE_ROWS = 8192
#: Progress is reported at least every this many bytes of XML.
PROGRESS_BYTES = 8 << 20
#: An ECG CSV larger than this is skipped (a real one is about 150-300 KB).
MAX_ECG_BYTES = 16 << 20
#: The prolog (XML declaration + internal DTD, about 10 KB in real exports)
#: must end within this many bytes.
MAX_PROLOG_BYTES = 4 << 20

_HR = "HKQuantityTypeIdentifierHeartRate"
_SDNN = "HKQuantityTypeIdentifierHeartRateVariabilitySDNN"
_SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
_MINDFUL = "HKCategoryTypeIdentifierMindfulSession"
_MOTION_KEY = "HKMetadataKeyHeartRateMotionContext"
_MOTION = {"0": "not_set", "1": "sedentary", "2": "active"}

#: Quantity types read as samples: metric, expected unit, factor to Vagus' unit.
QUANTITIES: dict[str, tuple[Metric, str, float]] = {
    _HR: ("heart_rate", "count/min", 1.0),
    _SDNN: ("hrv_sdnn", "ms", 1.0),
    "HKQuantityTypeIdentifierRestingHeartRate": ("resting_heart_rate", "count/min", 1.0),
    "HKQuantityTypeIdentifierRespiratoryRate": ("respiratory_rate", "count/min", 1.0),
    # HealthKit stores saturation as a fraction even though the unit says "%".
    "HKQuantityTypeIdentifierOxygenSaturation": ("spo2", "%", 100.0),
}
#: Plausibility bounds per metric; values outside are rejected and counted.
BOUNDS: dict[str, tuple[float, float]] = {
    "heart_rate": HEART_RATE_BOUNDS_BPM,
    "resting_heart_rate": HEART_RATE_BOUNDS_BPM,
    "hrv_sdnn": (1.0, 1000.0),
    "respiratory_rate": (2.0, 80.0),
    "spo2": (50.0, 100.0),
}
SLEEP_STAGES = {
    "HKCategoryValueSleepAnalysisInBed": "in_bed",
    "HKCategoryValueSleepAnalysisAsleep": "asleep",  # before iOS 16
    "HKCategoryValueSleepAnalysisAsleepUnspecified": "asleep",
    "HKCategoryValueSleepAnalysisAsleepCore": "asleep_core",
    "HKCategoryValueSleepAnalysisAsleepDeep": "asleep_deep",
    "HKCategoryValueSleepAnalysisAsleepREM": "asleep_rem",
    "HKCategoryValueSleepAnalysisAwake": "awake",
}
#: Top-level elements that get a parse event; others are counted when removed.
_TAGS = ("Record", "Correlation", "Workout", "ActivitySummary", "ExportDate", "Me")


class AppleHealth:
    """The Apple Health export connector (see the module docstring)."""

    name = "apple_health"
    description = "Apple Health export (export.zip, apple_health_export/ or export.xml)"
    #: Ceiling for a zip's declared uncompressed total (see ``archive``).
    max_total_bytes = zipsafe.MAX_TOTAL_BYTES

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return _xml_in_folder(path) is not None
        if zipsafe.is_zip(path):
            try:
                with zipfile.ZipFile(path) as archive:
                    return _xml_member(archive) is not None
            except (zipfile.BadZipFile, OSError):
                return False
        return b"<HealthData" in head or b"<!DOCTYPE HealthData" in head

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        with ExitStack() as stack:
            raw, xml_size, ecgs = self._open(path, stack)
            report.bytes_total = xml_size + sum(ecg.size for ecg in ecgs)
            yield from _read_xml(path, raw, report)
            for ecg in ecgs:
                if ecg.size > MAX_ECG_BYTES:  # 30 s at 512 Hz is about 150 KB
                    report.skip("ECG file too large to be a 30-second recording")
                    continue
                try:
                    data = ecg.load()
                except zipsafe.READ_ERRORS as exc:
                    raise ConnectorError(ecg.name, f"could not read the file: {exc}") from exc
                yield from _read_ecg(data, ecg.name, report)
            report.progress(report.bytes_total)

    def _open(self, path: Path, stack: ExitStack) -> tuple[BinaryIO, int, list[_EcgFile]]:
        """The XML byte stream, its size, and the ECG files beside it."""
        if zipsafe.is_zip(path):
            archive = stack.enter_context(zipsafe.open_checked(path, self.max_total_bytes))
            info = _xml_member(archive)
            if info is None:
                raise ConnectorError(path, "no apple_health_export/export.xml in this zip")
            ecgs = [_EcgFile(f"{path}:{m.filename}", m.file_size,
                             functools.partial(archive.read, m))
                    for m in zipsafe.members(archive, ".csv")
                    if "/electrocardiograms/" in f"/{m.filename}"]
            try:
                xml = archive.open(info)
            except zipsafe.READ_ERRORS as exc:
                raise ConnectorError(f"{path}:{info.filename}",
                                     f"could not read the member: {exc}") from exc
            return stack.enter_context(xml), info.file_size, ecgs
        xml_path = _xml_in_folder(path) if path.is_dir() else path
        if xml_path is None:
            raise ConnectorError(path, "no export.xml in this folder")
        ecgs = [_EcgFile(str(csv), csv.stat().st_size, csv.read_bytes)
                for csv in sorted((xml_path.parent / "electrocardiograms").glob("*.csv"))]
        return stack.enter_context(xml_path.open("rb")), xml_path.stat().st_size, ecgs


@dataclass(frozen=True, slots=True)
class _EcgFile:
    """An ``electrocardiograms/*.csv``: its name for messages, size, and how to read it."""

    name: str
    size: int
    load: Callable[[], bytes]


def _xml_in_folder(folder: Path) -> Path | None:
    for candidate in (folder / "export.xml", folder / "apple_health_export" / "export.xml"):
        if candidate.is_file():
            return candidate
    return None


def _xml_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """The export's main XML (not ``export_cda.xml``, the clinical document)."""
    for info in archive.infolist():
        if info.filename.replace("\\", "/").rsplit("/", 1)[-1] == "export.xml":
            return info
    return None


# -- the byte stream ----------------------------------------------------------


ENTITIES_REFUSED = ("refused: the document type declares entities (Apple exports never do; "
                    "this is how XML bombs and external-file reads work)")
_COMMENTS_AND_PIS = re.compile(rb"<!--.*?-->|<\?.*?\?>", re.DOTALL)
_ROOT_TAG = re.compile(rb"<HealthData[\s>/]")


def _refuse_entities(name: Path, elem: etree._Element) -> None:
    """Second line of defence: entities the parser saw in the internal DTD."""
    dtd = elem.getroottree().docinfo.internalDTD
    if dtd is not None and next(iter(dtd.iterentities()), None) is not None:
        raise ConnectorError(name, ENTITIES_REFUSED)


class _CheckedStream:
    """The XML bytes, with the prolog checked for entities and bytes counted."""

    def __init__(self, name: Path, raw: BinaryIO) -> None:
        self.raw = raw
        self.count = 0
        self.note: str | None = None
        self._head = self._read_prolog(name)

    def _read_prolog(self, name: Path) -> bytes:
        """Bytes up to and past the root start tag, after refusing entity declarations."""
        head = b""
        while True:
            visible = _COMMENTS_AND_PIS.sub(b"", head)
            root = _ROOT_TAG.search(visible)
            if root is not None and b"<!--" not in visible[:root.start()]:
                break
            try:
                chunk = self.raw.read(64 * 1024)
            except zipsafe.READ_ERRORS as exc:
                raise ConnectorError(name, f"could not read the export: {exc}") from exc
            if not chunk or len(head) > MAX_PROLOG_BYTES:
                raise ConnectorError(name, "no <HealthData> element at the start: "
                                           "not an Apple Health export.xml")
            head += chunk
        prolog = visible[:root.start()]
        # Entities are how XML bombs and external-file reads work; an Apple
        # export never declares any, so any declaration is refused outright.
        # (A declaration hidden from this scan is caught by _refuse_entities.)
        if b"<!ENTITY" in prolog:
            raise ConnectorError(name, ENTITIES_REFUSED,
                                 line=head[:head.find(b"<!ENTITY")].count(b"\n") + 1)
        if re.search(rb"<!DOCTYPE\s+\w+\s+(SYSTEM|PUBLIC)", prolog):
            self.note = "external DTD reference ignored (never loaded)"
        return head

    def read(self, size: int = -1) -> bytes:
        size = size if size and size > 0 else 1 << 16
        if self._head:  # the prolog, already read, is served first
            data, self._head = self._head[:size], self._head[size:]
        else:
            data = self.raw.read(size)
        self.count += len(data)
        return data


# -- sources ------------------------------------------------------------------

_DEVICE_FIELD = re.compile(r"(?:^|,\s*)(name|manufacturer|model|hardware|software|firmware|"
                           r"localIdentifier|UDIDeviceIdentifier):")
_STRAPS = ("h10", "h9", "h7", "hrm", "tickr", "strap", "chest")
_WATCH_MAKERS = ("garmin", "fitbit", "suunto", "coros", "amazfit", "withings", "whoop", "polar")


def parse_device(device: str) -> dict[str, str]:
    """Fields of an ``<<HKDevice: 0x...>, name:..., hardware:Watch6,2, ...>`` string.

    Values may hold commas (``Watch6,2``), so fields are split at the known keys.
    """
    body = device.strip()
    if body.startswith("<<"):
        body = body.partition(">")[2]
    body = body.rstrip(">").strip().lstrip(",").strip()
    fields: dict[str, str] = {}
    matches = list(_DEVICE_FIELD.finditer(body))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(body)
        fields[match.group(1)] = body[match.end():end].strip()
    return fields


def guess_kind(source_name: str, fields: dict[str, str]) -> SourceKind:
    """watch / phone / chest strap / app, from the device fields or the source name."""
    model = fields.get("model", "").lower()
    text = " ".join((fields.get("name", ""), model, fields.get("hardware", ""))).lower()
    maker = fields.get("manufacturer", "").lower()
    if any(word in text.split() or word in model for word in _STRAPS):
        return "chest_strap"
    if "watch" in model or fields.get("hardware", "").startswith("Watch"):
        return "watch"
    if "iphone" in model or "iphone" in text:
        return "phone"
    if "ring" in text or "oura" in maker:
        return "ring"
    if any(name in maker for name in _WATCH_MAKERS):
        return "watch"
    if not fields:
        lowered = " ".join(source_name.lower().split())  # real names hold U+00A0
        if "apple watch" in lowered:
            return "watch"
        if "iphone" in lowered:
            return "phone"
        return "app"
    return "unknown"


def make_source(source_name: str, device: str | None) -> SourceInfo:
    """A source from ``sourceName`` and ``device``.

    The key leaves out the device's memory address and software version,
    which change between records and exports, so it stays stable.
    """
    fields = parse_device(device) if device else {}
    identity = [fields[k] for k in ("name", "manufacturer", "model", "hardware") if k in fields]
    key = f"apple_health:{source_name}" + (f" [{'; '.join(identity)}]" if identity else "")
    label = ", ".join(identity) if identity else None
    return SourceInfo(key=key, name=source_name, kind=guess_kind(source_name, fields),
                      device=label)


class _Sources:
    """Caches sources by name and device, the address stripped (it varies per record)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], SourceInfo] = {}

    def get(self, source_name: str | None, device: str | None) -> SourceInfo:
        stable = device.partition(">")[2] if device else ""
        found = self._cache.get((source_name or "", stable))
        if found is None:
            found = make_source(source_name or "unknown source", device)
            self._cache[(source_name or "", stable)] = found
        return found


# -- dates --------------------------------------------------------------------

_DATE_LEN = 25  # "2024-05-04 07:00:00 +0200"
IMPOSSIBLE_OFFSET = "date with a UTC offset beyond ±14 hours"
_DIGITS = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 21, 22, 23, 24])
_SEPARATORS = {4: ord("-"), 7: ord("-"), 10: ord(" "), 13: ord(":"), 16: ord(":"), 19: ord(" ")}


def parse_dates(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised ``YYYY-MM-DD hh:mm:ss ±hhmm`` parsing.

    Returns UTC epoch microseconds, UTC offsets in seconds, and a mask of the
    strings that parsed (the others hold zeros).
    """
    n = len(texts)
    joined = "".join(texts)
    if len(joined) == n * _DATE_LEN and joined.isascii():
        chars = np.frombuffer(joined.encode("ascii"), np.uint8).reshape(n, _DATE_LEN)
    else:  # some strings are malformed: parse the well-shaped ones
        chars = np.zeros((n, _DATE_LEN), np.uint8)
        for row, text in enumerate(texts):
            if len(text) == _DATE_LEN and text.isascii():
                chars[row] = np.frombuffer(text.encode("ascii"), np.uint8)
    return parse_date_rows(chars)


def parse_date_rows(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`parse_dates` on an ``(n, 25)`` uint8 array of ASCII dates, one per row."""
    n = chars.shape[0]
    digits = chars - np.uint8(ord("0"))  # non-digits wrap around to values over 9
    ok = (digits[:, _DIGITS] <= 9).all(axis=1)
    for position, byte in _SEPARATORS.items():
        ok &= chars[:, position] == byte
    sign = np.where(chars[:, 20] == ord("-"), -1, 1)
    ok &= (chars[:, 20] == ord("+")) | (chars[:, 20] == ord("-"))

    def number(*cols: int) -> np.ndarray:
        value = np.zeros(n, np.int64)
        for col in cols:
            value = value * 10 + digits[:, col].astype(np.int64)
        return value

    year, month, day = number(0, 1, 2, 3), number(5, 6), number(8, 9)
    hour, minute, second = number(11, 12), number(14, 15), number(17, 18)
    offset = sign * (number(21, 22) * 3600 + number(23, 24) * 60)
    ok &= ((month >= 1) & (month <= 12) & (day >= 1) & (day <= 31) & (hour <= 23)
           & (minute <= 59) & (second <= 60))
    ok &= offset_in_range(number(21, 22), number(23, 24))
    # Days since 1970-01-01 from a civil date (H. Hinnant, "chrono-Compatible
    # Low-Level Date Algorithms", days_from_civil).
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
    seconds[~ok] = 0
    offset[~ok] = 0
    return seconds * 1_000_000, offset, ok


def offset_in_range(hours: np.ndarray, minutes: np.ndarray) -> np.ndarray:
    """Offsets some zone uses: within ±14 h, minutes under 60 (``+2500`` is not one)."""
    return (minutes <= 59) & (hours * 60 + minutes <= MAX_OFFSET_S // 60)


def offset_rows_impossible(chars: np.ndarray) -> int:
    """How many well-shaped date rows fail only for their offset (for the report)."""
    digits = chars[:, 21:25].astype(np.int64) - ord("0")
    shaped = ((digits >= 0) & (digits <= 9)).all(axis=1)
    hours, minutes = digits[:, 0] * 10 + digits[:, 1], digits[:, 2] * 10 + digits[:, 3]
    return int(np.count_nonzero(shaped & ~offset_in_range(hours, minutes)))


_ONE_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) "
                       r"([+-])([0-9]{2})([0-9]{2})\Z", re.ASCII)


@functools.lru_cache(maxsize=256)
def _zone(sign: str, hours: str, minutes: str) -> dt.timezone:
    offset = dt.timedelta(hours=int(hours), minutes=int(minutes))
    return dt.timezone(-offset if sign == "-" else offset)


def parse_date(text: str) -> dt.datetime:
    """One date as an aware datetime, for the records that need one (episodes, beat lists).

    A regular expression and a cached zone: several times faster than ``strptime``.
    """
    match = _ONE_DATE.match(text)
    if match is None:
        raise ValueError(f"date {text[:40]!r} is not 'YYYY-MM-DD hh:mm:ss +hhmm'")
    year, month, day, hour, minute, second, sign, off_h, off_m = match.groups()
    if not offset_in_range(np.array([int(off_h)]), np.array([int(off_m)]))[0]:
        raise ValueError(f"date {text[:40]!r}: UTC offset beyond ±14 hours")
    return dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second),
                       tzinfo=_zone(sign, off_h, off_m))


# -- batching -----------------------------------------------------------------


@dataclass
class _Pending:
    """Samples of one (source, metric, tags) waiting to be parsed in bulk.

    Kept compact (25 ASCII bytes of date and 8 bytes of value per sample,
    not two Python strings) so that full batches cost little memory.
    """

    source: SourceInfo
    metric: Metric
    factor: float
    tags: dict[str, str] | None
    starts: bytearray = field(default_factory=bytearray)
    values: array[float] = field(default_factory=lambda: array("d"))


def _flush(pending: _Pending, report: ReadReport) -> Iterator[SampleBatch]:
    """Parse a pending batch, reject what does not parse or fit, split by UTC offset."""
    rows = np.frombuffer(pending.starts, np.uint8).reshape(-1, _DATE_LEN)
    # In slices: the arithmetic's temporaries stay small however full the batch is.
    parts = [parse_date_rows(rows[i:i + _PARSE_ROWS]) for i in range(0, len(rows), _PARSE_ROWS)]
    impossible = offset_rows_impossible(rows)
    del rows  # releases the bytearray's buffer
    ts, offsets, ok = (np.concatenate(column) for column in zip(*parts, strict=True))
    report.reject(IMPOSSIBLE_OFFSET, impossible)
    report.reject("unparseable date", int(ok.size - np.count_nonzero(ok)) - impossible)
    values = np.array(pending.values, dtype=np.float64)[ok] * pending.factor
    ts, offsets = ts[ok], offsets[ok]
    metric = pending.metric
    keep = keep_within(values, BOUNDS[metric], f"{metric} out of physiological bounds", report,
                       metric=metric)
    ts, offsets, values = ts[keep], offsets[keep], values[keep]
    pending.starts, pending.values = bytearray(), array("d")
    for offset in np.unique(offsets):
        same = offsets == offset
        yield SampleBatch(pending.source, metric, ts[same], values[same],
                          utc_offset_s=int(offset), tags=pending.tags)


@dataclass
class _Beats:
    """RR intervals of one source from HRV beat lists, waiting to be yielded."""

    ts: list[np.ndarray] = field(default_factory=list)
    rr: list[np.ndarray] = field(default_factory=list)
    size: int = 0


# -- the XML ------------------------------------------------------------------


def _read_xml(name: Path, raw: BinaryIO, report: ReadReport) -> Iterator[Item]:
    stream = _CheckedStream(name, raw)
    if stream.note:
        report.note(stream.note)
    reader = _RecordReader(report)
    events = etree.iterparse(
        stream, events=("end",), tag=_TAGS,
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True, collect_ids=False)
    root = None
    reported = 0
    try:
        for count, (_event, elem) in enumerate(events):
            parent = elem.getparent()
            if root is None:
                root = elem.getroottree().getroot()
                if root.tag != "HealthData" or parent is None:
                    raise ConnectorError(name, "the root element is not <HealthData>")
                _refuse_entities(name, elem)
            if parent is not root:
                continue  # inside a Correlation; its records also appear at top level
            # Elements without a parse event (unknown kinds) precede this one.
            while (previous := elem.getprevious()) is not None:
                reader.skipped[str(previous.tag)] += 1
                root.remove(previous)
            tag = elem.tag
            if tag == "Record":
                reader.record(elem)
                if reader.ready:
                    ready, reader.ready = reader.ready, []
                    yield from ready
            elif tag not in ("ExportDate", "Me"):
                reader.skipped[tag] += 1
            root.remove(elem)
            if count & 0xFF == 0 and stream.count - reported >= PROGRESS_BYTES:
                reported = stream.count
                report.progress(stream.count)
    except etree.XMLSyntaxError as exc:
        raise ConnectorError(name, f"malformed XML: {exc.msg}", line=exc.lineno) from exc
    except zipsafe.READ_ERRORS as exc:
        raise ConnectorError(name, f"could not read the export: {exc}") from exc
    if root is not None:
        for leftover in root:
            reader.skipped[str(leftover.tag)] += 1
    yield from reader.finish()
    report.progress(stream.count)


class _RecordReader:
    """Turns ``<Record>`` elements into pending batches, beats and episodes.

    Called once per record on the hot path, so it is a plain method (no
    generator per record): finished items collect in ``ready``.
    """

    def __init__(self, report: ReadReport) -> None:
        self.report = report
        self.sources = _Sources()
        self.pending: dict[tuple[str, str, str | None], _Pending] = {}
        self.beats: dict[tuple[SourceInfo, int], _Beats] = {}
        self.skipped: Counter[str] = Counter()
        self.ready: list[Item] = []
        self.waiting = 0  # samples in self.pending

    def record(self, elem: etree._Element) -> None:
        kind = elem.get("type")
        quantity = QUANTITIES.get(kind)  # type: ignore[arg-type]
        if quantity is not None:
            self._quantity(elem, kind, quantity)  # type: ignore[arg-type]
        elif kind == _SLEEP or kind == _MINDFUL:
            episode = self._episode(elem, kind)
            if episode is not None:
                self.ready.append(episode)
        else:
            self.skipped[kind or "Record without type"] += 1

    def _quantity(self, elem: etree._Element, kind: str,
                  quantity: tuple[Metric, str, float]) -> None:
        metric, unit, factor = quantity
        if elem.get("unit") != unit:
            self.report.reject(f"{metric} in unexpected unit {elem.get('unit')!r}")
            return
        source = self.sources.get(elem.get("sourceName"), elem.get("device"))
        context = None
        if kind == _HR and len(elem):
            for child in elem:
                if child.get("key") == _MOTION_KEY:
                    context = _MOTION.get(child.get("value") or "", "unknown")
        key = (source.key, metric, context)
        pending = self.pending.get(key)
        if pending is None:
            tags = {"motion_context": context} if context else None
            pending = self.pending[key] = _Pending(source, metric, factor, tags)
        start = elem.get("startDate") or ""
        if len(start) != _DATE_LEN or not start.isascii():
            self.report.reject("unparseable date")
            return
        try:
            value = float(elem.get("value"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            value = math.nan  # rejected with the out-of-bounds values
        pending.starts += start.encode("ascii")
        pending.values.append(value)
        if kind == _SDNN:
            self._beat_list(elem, source)
        self.waiting += 1
        if self.waiting >= BATCH_SIZE:
            largest = max(self.pending.values(), key=lambda p: len(p.values))
            self.waiting -= len(largest.values)
            self.ready.extend(_flush(largest, self.report))

    def _beat_list(self, elem: etree._Element, source: SourceInfo) -> None:
        """RR intervals from the ``InstantaneousBeatsPerMinute`` times of an SDNN record."""
        lists = elem.findall("HeartRateVariabilityMetadataList")
        if not lists:
            return
        times = [beat.get("time") or "" for beat in lists[0].iter("InstantaneousBeatsPerMinute")]
        if len(times) < 2:
            return
        intervals = len(times) - 1
        try:
            start = parse_date(elem.get("startDate") or "")
            end = parse_date(elem.get("endDate") or "")
            times_ms = [parse_beat_time(t) for t in times]
        except ValueError:  # BeatTimeError included
            self.report.reject("rr_interval: unreadable beat time or record date", intervals)
            return
        try:
            placed = place_beats(times_ms, start_of_day_ms=(start.hour * 3600 + start.minute * 60
                                                            + start.second) * 1000,
                                 duration_ms=int((end - start).total_seconds() * 1000))
        except BeatTimeError:
            self.report.reject("rr_interval: beat times disagree with the record's startDate",
                               intervals)
            return
        if placed.hour_shift:
            self.report.note("beat times one hour off startDate (daylight saving), corrected")
        start_us = int(start.timestamp()) * 1_000_000
        offset = start.utcoffset()
        key = (source, int(offset.total_seconds()) if offset else 0)
        waiting = self.beats.get(key)
        if waiting is not None and waiting.size + len(times) - 1 > BATCH_SIZE:
            self.ready.append(self._rr(key))  # keep batches within the size
        beats = self.beats.setdefault(key, _Beats())
        beats.ts.append(start_us + placed.offsets_ms[1:] * 1000)
        beats.rr.append(placed.rr_ms())
        beats.size += len(times) - 1

    def _rr(self, key: tuple[SourceInfo, int]) -> SampleBatch:
        beats = self.beats.pop(key)
        return rr_batch(key[0], np.concatenate(beats.ts), np.concatenate(beats.rr),
                        self.report, utc_offset_s=key[1])

    def _episode(self, elem: etree._Element, kind: str) -> Episode | None:
        stage = "mindful" if kind == _MINDFUL else SLEEP_STAGES.get(elem.get("value") or "")
        if stage is None:
            self.report.reject(f"unknown sleep value {elem.get('value')!r}")
            return None
        try:
            start = parse_date(elem.get("startDate") or "")
            end = parse_date(elem.get("endDate") or "")
        except ValueError:
            self.report.reject("unparseable date")
            return None
        if end < start:
            self.report.reject("episode ends before it starts")
            return None
        source = self.sources.get(elem.get("sourceName"), elem.get("device"))
        return Episode(source, stage, start, end)  # type: ignore[arg-type]

    def finish(self) -> Iterator[Item]:
        """Flush every pending batch and hand the skip counts to the report."""
        for pending in self.pending.values():
            if pending.values:
                yield from _flush(pending, self.report)
        for key in list(self.beats):
            yield self._rr(key)
        for reason, count in self.skipped.items():
            self.report.skip(reason, count)


# -- electrocardiograms -------------------------------------------------------


def _read_ecg(data: bytes, name: str, report: ReadReport) -> Iterator[Item]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConnectorError(name, f"ECG file is not UTF-8 ({exc.reason})") from exc
    recording = parse_ecg(text, name)
    beat_us, rr_ms = ecg_beats(recording)
    report.progress(report.bytes_read + len(data))
    if rr_ms.size == 0:
        report.skip("ECG without detectable beats")
        return
    hardware = recording.hardware or "unknown model"
    source = SourceInfo(key=f"apple_health:ECG [Apple Watch; {hardware}]",
                        name="Apple Watch ECG", kind="ecg", device=f"Apple Watch {hardware}")
    yield rr_batch(source, beat_us, rr_ms, report, recording.utc_offset_s)
