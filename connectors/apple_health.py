"""Apple Health exports: ``export.zip``, ``apple_health_export/`` or its ``export.xml``.

The XML is one ``<HealthData>`` element holding millions of ``<Record>``
children, behind an internal DTD; most of them (steps, energy, workouts) are
never stored. So the XML is not parsed whole: :mod:`connectors.apple_scan`
walks its bytes a chunk at a time for the top-level elements and their
``type``, counts the skipped ones, and hands on only the records kept. Those
in the layout Apple writes are read by splitting their start tag at the
quotes; any other spelling goes through expat, which decodes it as XML
requires. ``AppleHealth.full_parse`` reads every element with lxml
``iterparse`` instead, each removed once handled; it is the reference the
scanner is tested against (same items, same report), and the path taken for
a prolog the scanner leaves alone (another encoding, attribute types a parser
would normalise). A thread reads the next chunks ahead, so inflating a zip
runs beside the scan. Memory stays flat however large the file is.

Entities are never expanded and nothing is fetched: the prolog is checked
before parsing and any entity declaration is refused (real exports declare
none); the scanner has no DTD to expand from, expat sees the kept records
without one, and lxml runs with entity resolution, DTD loading and network
access off.

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
import queue
import re
import threading
import zipfile
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from xml.parsers import expat

import numpy as np
from lxml import etree

from . import apple_scan
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
    #: Parse every element with lxml instead of scanning past the skipped ones
    #: (the reference the scanner is tested against; same output, slower).
    full_parse = False

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
            yield from _read_xml(path, raw, report, self.full_parse)
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

    def _open(self, path: Path, stack: ExitStack) -> tuple[IO[bytes], int, list[_EcgFile]]:
        """The XML byte stream, its size, and the ECG files beside it."""
        if zipsafe.is_zip(path):
            archive = stack.enter_context(zipsafe.open_checked(path, self.max_total_bytes))
            info = _xml_member(archive)
            if info is None:
                raise ConnectorError(path, "no apple_health_export/export.xml in this zip")
            ecgs = [
                _EcgFile(f"{path}:{m.filename}", m.file_size, functools.partial(archive.read, m))
                for m in zipsafe.members(archive, ".csv")
                if "/electrocardiograms/" in f"/{m.filename}"
            ]
            try:
                xml = archive.open(info)
            except zipsafe.READ_ERRORS as exc:
                raise ConnectorError(f"{path}:{info.filename}", f"could not read the member: {exc}") from exc
            return stack.enter_context(xml), info.file_size, ecgs
        xml_path = _xml_in_folder(path) if path.is_dir() else path
        if xml_path is None:
            raise ConnectorError(path, "no export.xml in this folder")
        ecgs = [
            _EcgFile(str(csv), csv.stat().st_size, csv.read_bytes)
            for csv in sorted((xml_path.parent / "electrocardiograms").glob("*.csv"))
        ]
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


ENTITIES_REFUSED = (
    "refused: the document type declares entities (Apple exports never do; "
    "this is how XML bombs and external-file reads work)"
)
_COMMENTS_AND_PIS = re.compile(rb"<!--.*?-->|<\?.*?\?>", re.DOTALL)
_ROOT_TAG = re.compile(rb"<HealthData[\s>/]")


def _refuse_entities(name: Path, elem: etree._Element) -> None:
    """Second line of defence: entities the parser saw in the internal DTD."""
    dtd = elem.getroottree().docinfo.internalDTD
    if dtd is not None and next(iter(dtd.iterentities()), None) is not None:
        raise ConnectorError(name, ENTITIES_REFUSED)


class _CheckedStream:
    """The XML bytes, with the prolog checked for entities and bytes counted."""

    def __init__(self, name: Path, raw: IO[bytes]) -> None:
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
            if root is not None and b"<!--" not in visible[: root.start()]:
                break
            try:
                chunk = self.raw.read(64 * 1024)
            except zipsafe.READ_ERRORS as exc:
                raise ConnectorError(name, f"could not read the export: {exc}") from exc
            if not chunk or len(head) > MAX_PROLOG_BYTES:
                raise ConnectorError(
                    name, "no <HealthData> element at the start: not an Apple Health export.xml"
                )
            head += chunk
        prolog = visible[: root.start()]
        # Entities are how XML bombs and external-file reads work; an Apple
        # export never declares any, so any declaration is refused outright.
        # (A declaration hidden from this scan is caught by _refuse_entities.)
        if b"<!ENTITY" in prolog:
            raise ConnectorError(name, ENTITIES_REFUSED, line=head[: head.find(b"<!ENTITY")].count(b"\n") + 1)
        if re.search(rb"<!DOCTYPE\s+\w+\s+(SYSTEM|PUBLIC)", prolog):
            self.note = "external DTD reference ignored (never loaded)"
        return head

    @property
    def head(self) -> bytes:
        """The bytes read ahead (the prolog and a little more), not yet served."""
        return self._head

    def read_ahead(self) -> bool:
        """Read one more chunk into :attr:`head`; False at the end of the stream."""
        chunk = self.raw.read(64 * 1024)
        self._head += chunk
        return bool(chunk)

    def read(self, size: int = -1) -> bytes:
        size = size if size and size > 0 else 1 << 16
        if self._head:  # the prolog, already read, is served first
            data, self._head = self._head[:size], self._head[size:]
        else:
            data = self.raw.read(size)
        self.count += len(data)
        return data


class _ReadAhead:
    """A stream's next chunks, read in a thread while the caller scans the last one.

    ``zlib`` and ``crc32`` release the GIL, so inflating a zipped export runs
    on the second core. At most ``depth`` chunks wait; errors reach the caller.
    """

    def __init__(self, read: Callable[[int], bytes], size: int, depth: int = 3) -> None:
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self.delivered = 0  # bytes handed to the caller
        self._thread = threading.Thread(
            target=self._fill, args=(read, size), daemon=True, name="apple-health-read-ahead"
        )
        self._thread.start()

    def _fill(self, read: Callable[[int], bytes], size: int) -> None:
        try:
            while not self._stop.is_set():
                chunk = read(size)
                self._put(chunk)
                if not chunk:
                    return
        except Exception as exc:  # noqa: BLE001 (handed to the caller, raised there)
            self._put(exc)

    def _put(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def read(self, size: int) -> bytes:
        """At least ``size`` bytes, fewer only at the end of the stream (b"" after it)."""
        parts: list[bytes] = []
        have = 0
        while have < size and not self._done:
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            if not item:
                self._done = True
            parts.append(item)
            have += len(item)
        self.delivered += have
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def close(self) -> None:
        """Stop reading (the stream may be closed after this returns)."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.1)
            except queue.Empty:
                pass
        self._thread.join()


# -- sources ------------------------------------------------------------------

_DEVICE_FIELD = re.compile(
    r"(?:^|,\s*)(name|manufacturer|model|hardware|software|firmware|"
    r"localIdentifier|UDIDeviceIdentifier):"
)
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
        fields[match.group(1)] = body[match.end() : end].strip()
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
    return SourceInfo(key=key, name=source_name, kind=guess_kind(source_name, fields), device=label)


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
    ok &= (
        (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (day <= 31)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 60)
    )
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


_ONE_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) "
    r"([+-])([0-9]{2})([0-9]{2})\Z",
    re.ASCII,
)


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
    return dt.datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=_zone(sign, off_h, off_m)
    )


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
    parts = [parse_date_rows(rows[i : i + _PARSE_ROWS]) for i in range(0, len(rows), _PARSE_ROWS)]
    impossible = offset_rows_impossible(rows)
    del rows  # releases the bytearray's buffer
    ts, offsets, ok = (np.concatenate(column) for column in zip(*parts, strict=True))
    report.reject(IMPOSSIBLE_OFFSET, impossible)
    report.reject("unparseable date", int(ok.size - np.count_nonzero(ok)) - impossible)
    values = np.array(pending.values, dtype=np.float64)[ok] * pending.factor
    ts, offsets = ts[ok], offsets[ok]
    metric = pending.metric
    keep = keep_within(values, BOUNDS[metric], f"{metric} out of physiological bounds", report, metric=metric)
    ts, offsets, values = ts[keep], offsets[keep], values[keep]
    pending.starts, pending.values = bytearray(), array("d")
    for offset in np.unique(offsets):
        same = offsets == offset
        yield SampleBatch(
            pending.source, metric, ts[same], values[same], utc_offset_s=int(offset), tags=pending.tags
        )


@dataclass
class _Beats:
    """RR intervals of one source from HRV beat lists, waiting to be yielded."""

    ts: list[np.ndarray] = field(default_factory=list)
    rr: list[np.ndarray] = field(default_factory=list)
    size: int = 0


# -- the XML ------------------------------------------------------------------


def _read_xml(name: Path, raw: IO[bytes], report: ReadReport, full_parse: bool = False) -> Iterator[Item]:
    """The XML's items: by the scanner when it handles the prolog, else by lxml throughout."""
    try:
        stream = _CheckedStream(name, raw)
        if stream.note:
            report.note(stream.note)
        prolog = None if full_parse else _scannable_prolog(stream)
        if prolog is None:
            yield from _read_xml_full(name, stream, report)
        else:
            yield from _read_xml_scanned(name, stream, prolog, report)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise ConnectorError(name, f"could not read the export: {exc}") from exc


def _scannable_prolog(stream: _CheckedStream) -> apple_scan.Prolog | None:
    """The prolog, if the scanner handles it (real exports' always are)."""
    while True:
        try:
            return apple_scan.read_prolog(stream.head, b"HealthData")
        except apple_scan.NeedMore:
            if len(stream.head) > MAX_PROLOG_BYTES or not stream.read_ahead():
                return None  # the full parse says what is wrong


#: The record types kept; any other is skipped before it is parsed.
_KEPT_TYPES = frozenset(QUANTITIES) | {_SLEEP, _MINDFUL}
#: The units of the quantity types, as bytes.
_UNITS = {kind: unit.encode() for kind, (_m, unit, _f) in QUANTITIES.items()}
_MOTION_KEY_BYTES = _MOTION_KEY.encode()
_MOTION_BYTES = {key.encode(): name for key, name in _MOTION.items()}
# Children of a heart-rate record in Apple's layout: metadata entries only.
_PLAIN_METADATA = re.compile(rb'(?:\s*<MetadataEntry key="[^"&<\t\n\r]*" value="[^"&<\t\n\r]*"/>)*\s*')
_MOTION_ENTRY = b'<MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="'
# An SDNN record's children in Apple's layout: one beat list, bpm before time.
_PLAIN_BEAT_LIST = re.compile(
    rb'<HeartRateVariabilityMetadataList>(?:\s*<InstantaneousBeatsPerMinute bpm="[^"<&\t\n\r]*" '
    rb'time="[^"<&\t\n\r]*"/>)*\s*</HeartRateVariabilityMetadataList>'
)
_BEAT_TIME = re.compile(rb'time="([^"]*)"/>')
_METADATA_ENTRY = re.compile(rb'<MetadataEntry key="([^"]*)" value="([^"]*)"/>')


def _read_xml_scanned(
    name: Path, stream: _CheckedStream, prolog: apple_scan.Prolog, report: ReadReport
) -> Iterator[Item]:
    """The scanner's path: skipped elements only counted, kept records read from their bytes."""
    head = stream.read(len(stream.head))
    reported = 0

    def progress() -> None:  # the bytes scanned, not those read ahead
        nonlocal reported
        scanned = len(head) + ahead.delivered
        if scanned - reported >= PROGRESS_BYTES:
            reported = scanned
            report.progress(scanned)

    kinds: dict[bytes | None, str] = {}  # raw type attribute -> its value

    def keep(raw_kind: bytes | None) -> bool:
        kind = kinds[raw_kind] = _attribute_text(raw_kind)
        return kind in _KEPT_TYPES

    ahead = _ReadAhead(stream.read, apple_scan.CHUNK_BYTES)
    scanner = apple_scan.ElementScanner(
        ahead.read,
        head[prolog.root_end :],
        b"HealthData",
        keep,
        root_empty=prolog.root_empty,
        first_line=head.count(b"\n", 0, prolog.root_end) + 1,
        on_chunk=progress,
    )
    reader = _RecordReader(report)
    kept = _KeptRecords(reader)
    ready = reader.ready
    buffer, start = b"", 0
    try:
        for raw_kind, buffer, start, tag_end, end in scanner:
            kept.feed(kinds[raw_kind], buffer, start, tag_end, end)
            if ready:
                yield from ready
                ready.clear()
        kept.close()
    except apple_scan.ScanError as exc:
        raise ConnectorError(name, f"malformed XML: {exc.message}", line=exc.line) from exc
    except expat.ExpatError as exc:
        line = scanner.line_at(buffer, start) + exc.lineno - kept.line
        raise ConnectorError(name, f"malformed XML: {expat.ErrorString(exc.code)}", line=line) from exc
    finally:
        ahead.close()
    for raw_kind, count in scanner.skipped_types.items():
        reader.skipped[kinds[raw_kind] or "Record without type"] += count
    for tag, count in scanner.skipped_tags.items():
        if tag != b"ExportDate" and tag != b"Me":
            reader.skipped[tag.decode("utf-8", "replace")] += count
    yield from ready
    ready.clear()
    yield from reader.finish()
    report.progress(stream.count)


def _plain_beats(children: bytes) -> list[str] | None:
    """Beat times of an SDNN record's children in Apple's layout, or None for any other."""
    if _PLAIN_BEAT_LIST.fullmatch(children) is None:
        return None
    try:
        return [time.decode("utf-8") for time in _BEAT_TIME.findall(children)]
    except UnicodeDecodeError:
        return None


def _stable_device(device: bytes | None) -> bytes | None:
    """The raw ``device`` from its first ``>`` on: what the reader's source cache keys on.

    The part before (``<<HKDevice: 0x283a5d1d0>``) differs per record. The
    whole value comes back when a character reference might hide the first ``>``.
    """
    if device is None:
        return None
    head, gt, tail = device.partition(b"&gt;")
    if gt and 0x3E not in head and head.find(b"&#") < 0:
        return tail  # how Apple writes it
    cut = device.find(b">")
    if cut < 0 or device.find(b"&#", 0, cut) >= 0:
        return device
    return device[cut + 1 :]


def _attribute_text(raw: bytes | None) -> str:
    """An attribute's value from its raw bytes, decoded as XML requires ("" when absent).

    Raises ValueError when the value is not well-formed (an unknown entity).
    """
    if raw is None:
        return ""
    if b"&" not in raw and b"\t" not in raw and b"\n" not in raw and b"\r" not in raw:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass  # expat says what is wrong
    found: dict[str, str] = {}
    parser = expat.ParserCreate()
    parser.StartElementHandler = lambda _name, attributes: found.update(attributes)
    try:
        parser.Parse(b'<a v="' + raw + b'"/>', True)
    except expat.ExpatError as exc:
        raise ValueError(expat.ErrorString(exc.code)) from exc
    return found["v"]


class _KeptRecords:
    """Kept records, from their bytes, to the reader.

    A quantity record in the layout Apple writes (double-quoted attributes
    separated by single spaces, its expected unit, a 25-character date, an
    ASCII value; as children at most metadata entries, or an SDNN record's
    beat list) is read by splitting its start tag at the quotes; that path
    takes the first of a repeated attribute where a parser would refuse the
    record. Every other kept record goes through one
    expat parser, fed record by record: expat decodes attributes as XML
    requires (entities, character references, whitespace normalisation),
    refuses malformed records, and skips comments and CDATA inside them. The
    records are fed as children of one synthetic root without a DTD, so an
    entity reference other than the five predefined ones is an error, as in
    the full parse, where entity declarations are refused.
    """

    def __init__(self, reader: _RecordReader) -> None:
        self.reader = reader
        #: (raw sourceName, raw device from its first ">" on, motion context,
        #: type) -> the batch such samples wait in: found once, as the reader would
        self._pending: dict[tuple[bytes | None, bytes | None, str | None, str], _Pending] = {}
        parser = expat.ParserCreate()
        if hasattr(parser, "SetReparseDeferralEnabled"):
            parser.SetReparseDeferralEnabled(False)  # each record's events when it is fed
        self._parser = parser
        self.line = 1  # the parser's line where the record being fed starts
        self.depth = -1  # the synthetic root is at 0, the records at 1
        self.attributes: dict[str, str] = {}
        self.motion: str | None = None
        self.beats: list[str] | None = None
        self.in_beat_list = False
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.Parse(b"<records>", False)

    def feed(self, kind: str, buffer: bytes, start: int, tag_end: int, end: int) -> None:
        """The record ``buffer[start:end]`` of type ``kind``; its start tag ends at ``tag_end``."""
        quantity = QUANTITIES.get(kind)
        if quantity is None or not self._plain(kind, quantity, buffer, start, tag_end, end):
            self.line = self._parser.CurrentLineNumber
            self._parser.Parse(buffer[start:end], False)

    def _plain(
        self,
        kind: str,
        quantity: tuple[Metric, str, float],
        buffer: bytes,
        start: int,
        tag_end: int,
        end: int,
    ) -> bool:
        """Read a quantity record in Apple's own layout; False (nothing done) for any other.

        Hot path: bytes methods and list lookups only (``bytes.__contains__``
        with a bytes operand and ``dict(zip(...))`` cost several times more).
        """
        if not buffer.startswith(b'<Record type="', start):
            return False
        tag = buffer[start + 8 : tag_end]
        if 0x27 in tag or 0x0A in tag or 0x09 in tag or 0x0D in tag:
            return False  # single quotes, or whitespace that XML would normalise
        # name= "value" name= "value" ...: names at even places, values at odd ones.
        parts = tag.split(b'"')
        if parts[-1] != b"/" and parts[-1] != b"":
            return False
        try:
            at_unit, at_day = parts.index(b" unit="), parts.index(b" startDate=")
            at_value = parts.index(b" value=")
        except ValueError:
            return False
        if (at_unit | at_day | at_value) & 1 or parts[at_unit + 1] != _UNITS[kind]:
            return False
        day, value = parts[at_day + 1], parts[at_value + 1]
        if (
            len(day) != _DATE_LEN
            or not day.isascii()
            or day.find(b"&") >= 0
            or not value.isascii()
            or value.find(b"&") >= 0
        ):
            return False
        context = beats = None
        if buffer[tag_end - 1] != 0x2F and (kind == _HR or kind == _SDNN):
            if not buffer.startswith(b"</Record>", end - 9):
                return False
            children = buffer[tag_end + 1 : end - 9].strip()
            if kind == _SDNN:  # the beat list, and the record's end to place it
                beats = _plain_beats(children)
                try:
                    at_end = parts.index(b" endDate=")
                    ends = parts[at_end + 1].decode("ascii")
                except (ValueError, UnicodeDecodeError):
                    return False
                if beats is None or at_end & 1 or ends.find("&") >= 0:
                    return False
            elif not (
                children.startswith(_MOTION_ENTRY)
                and children.endswith(b'"/>')
                and (context := _MOTION_BYTES.get(children[len(_MOTION_ENTRY) : -3]))
            ):
                plain, context = self._metadata_context(children)
                if not plain:
                    return False
        name = device = None
        if b" sourceName=" in parts:
            at = parts.index(b" sourceName=")
            if at & 1:
                return False  # a value that reads like an attribute name
            name = parts[at + 1]
        if b" device=" in parts:
            at = parts.index(b" device=")
            if at & 1:
                return False
            device = parts[at + 1]
        key = (name, _stable_device(device), context, kind)
        pending = self._pending.get(key)
        if pending is None:
            try:
                source = self.reader.sources.get(
                    None if name is None else _attribute_text(name),
                    None if device is None else _attribute_text(device),
                )
            except ValueError:
                return False  # expat reports it, with the record's line
            if len(self._pending) > 10_000:  # only hostile files have this many devices
                self._pending.clear()
            pending = self._pending[key] = self.reader.pending_for(source, quantity, context)
        try:
            number = float(value)
        except ValueError:
            number = math.nan  # rejected with the out-of-bounds values
        if beats:
            self.reader.beat_list(beats, {"startDate": day.decode(), "endDate": ends}.get, pending.source)
        pending.starts += day  # as reader.add(), inlined on the hot path
        pending.values.append(number)
        reader = self.reader
        reader.waiting += 1
        if reader.waiting >= BATCH_SIZE:
            reader.flush_largest()
        return True

    @staticmethod
    def _metadata_context(children: bytes) -> tuple[bool, str | None]:
        """Whether the children are plain metadata entries, and the motion context they give."""
        if _PLAIN_METADATA.fullmatch(children) is None:
            return False, None
        context = None
        for key, text in _METADATA_ENTRY.findall(children):
            if key == _MOTION_KEY_BYTES:
                context = _MOTION_BYTES.get(text, "unknown")
        return True, context

    def close(self) -> None:
        self.line = self._parser.CurrentLineNumber
        self._parser.Parse(b"</records>", True)

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        # Mirrors the reader's element(): motion context from any direct
        # child, beat times from the first beat list (at any depth inside it).
        depth = self.depth = self.depth + 1
        if depth == 1:
            self.attributes = attributes
            self.motion = self.beats = None
        elif depth == 2:
            if attributes.get("key") == _MOTION_KEY:
                self.motion = _MOTION.get(attributes.get("value") or "", "unknown")
            if name == "HeartRateVariabilityMetadataList" and self.beats is None:
                self.beats = []
                self.in_beat_list = True
        elif self.in_beat_list and name == "InstantaneousBeatsPerMinute":
            self.beats.append(attributes.get("time") or "")  # type: ignore[union-attr]

    def _end(self, _name: str) -> None:
        depth = self.depth
        self.depth = depth - 1
        if depth == 2:
            self.in_beat_list = False
        elif depth == 1:
            attributes = self.attributes
            self.reader.record(attributes.get("type"), attributes.get, self.motion, self.beats)


def _read_xml_full(name: Path, stream: _CheckedStream, report: ReadReport) -> Iterator[Item]:
    """Every element through lxml ``iterparse`` (prologs the scanner leaves alone, and tests)."""
    reader = _RecordReader(report)
    events = etree.iterparse(
        stream,
        events=("end",),
        tag=_TAGS,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
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
                reader.element(elem)
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
    """Turns records into pending batches, beats and episodes.

    A record comes as its ``type``, a getter for its attributes, and what its
    children say: the motion context of a heart-rate record and the beat
    times of an SDNN record's first beat list. Both parsing paths (lxml
    elements and the scanner's kept records) feed this one reader. Called
    once per record on the hot path, so it is a plain method (no generator
    per record): finished items collect in ``ready``.
    """

    def __init__(self, report: ReadReport) -> None:
        self.report = report
        self.sources = _Sources()
        self.pending: dict[tuple[str, str, str | None], _Pending] = {}
        self.beats: dict[tuple[SourceInfo, int], _Beats] = {}
        self.skipped: Counter[str] = Counter()
        self.ready: list[Item] = []
        self.waiting = 0  # samples in self.pending

    def element(self, elem: etree._Element) -> None:
        """A ``<Record>`` element of the full parse."""
        kind = elem.get("type")
        motion = beats = None
        if kind == _HR:
            for child in elem:
                if child.get("key") == _MOTION_KEY:
                    motion = _MOTION.get(child.get("value") or "", "unknown")
        elif kind == _SDNN:
            lists = elem.findall("HeartRateVariabilityMetadataList")
            if lists:
                beats = [beat.get("time") or "" for beat in lists[0].iter("InstantaneousBeatsPerMinute")]
        self.record(kind, elem.get, motion, beats)

    def record(
        self,
        kind: str | None,
        get: Callable[[str], str | None],
        motion: str | None = None,
        beats: list[str] | None = None,
    ) -> None:
        quantity = QUANTITIES.get(kind)  # type: ignore[arg-type]
        if quantity is not None:
            self._quantity(kind, quantity, get, motion, beats)  # type: ignore[arg-type]
        elif kind == _SLEEP or kind == _MINDFUL:
            episode = self._episode(get, kind)
            if episode is not None:
                self.ready.append(episode)
        else:
            self.skipped[kind or "Record without type"] += 1

    def _quantity(
        self,
        kind: str,
        quantity: tuple[Metric, str, float],
        get: Callable[[str], str | None],
        motion: str | None,
        beats: list[str] | None,
    ) -> None:
        metric, unit, _factor = quantity
        if get("unit") != unit:
            self.report.reject(f"{metric} in unexpected unit {get('unit')!r}")
            return
        source = self.sources.get(get("sourceName"), get("device"))
        start = get("startDate") or ""
        if len(start) != _DATE_LEN or not start.isascii():
            self.report.reject("unparseable date")
            return
        try:
            value = float(get("value"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            value = math.nan  # rejected with the out-of-bounds values
        if kind == _SDNN and beats:
            self.beat_list(beats, get, source)
        self.sample(source, quantity, motion if kind == _HR else None, start.encode("ascii"), value)

    def sample(
        self,
        source: SourceInfo,
        quantity: tuple[Metric, str, float],
        context: str | None,
        start: bytes,
        value: float,
    ) -> None:
        """One checked sample: ``start`` is 25 ASCII bytes, ``value`` in the export's unit."""
        self.add(self.pending_for(source, quantity, context), start, value)

    def pending_for(
        self, source: SourceInfo, quantity: tuple[Metric, str, float], context: str | None
    ) -> _Pending:
        """The batch that samples of this source, quantity and motion context wait in."""
        metric, _unit, factor = quantity
        key = (source.key, metric, context)
        pending = self.pending.get(key)
        if pending is None:
            tags = {"motion_context": context} if context else None
            pending = self.pending[key] = _Pending(source, metric, factor, tags)
        return pending

    def add(self, pending: _Pending, start: bytes, value: float) -> None:
        pending.starts += start
        pending.values.append(value)
        self.waiting += 1
        if self.waiting >= BATCH_SIZE:
            self.flush_largest()

    def flush_largest(self) -> None:
        """Parse the fullest pending batch into ``ready``: memory stays within BATCH_SIZE."""
        largest = max(self.pending.values(), key=lambda p: len(p.values))
        self.waiting -= len(largest.values)
        self.ready.extend(_flush(largest, self.report))

    def beat_list(self, times: list[str], get: Callable[[str], str | None], source: SourceInfo) -> None:
        """RR intervals from the ``InstantaneousBeatsPerMinute`` times of an SDNN record."""
        if len(times) < 2:
            return
        intervals = len(times) - 1
        try:
            start = parse_date(get("startDate") or "")
            end = parse_date(get("endDate") or "")
            times_ms = [parse_beat_time(t) for t in times]
        except ValueError:  # BeatTimeError included
            self.report.reject("rr_interval: unreadable beat time or record date", intervals)
            return
        try:
            placed = place_beats(
                times_ms,
                start_of_day_ms=(start.hour * 3600 + start.minute * 60 + start.second) * 1000,
                duration_ms=int((end - start).total_seconds() * 1000),
            )
        except BeatTimeError:
            self.report.reject("rr_interval: beat times disagree with the record's startDate", intervals)
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
        return rr_batch(
            key[0], np.concatenate(beats.ts), np.concatenate(beats.rr), self.report, utc_offset_s=key[1]
        )

    def _episode(self, get: Callable[[str], str | None], kind: str) -> Episode | None:
        stage = "mindful" if kind == _MINDFUL else SLEEP_STAGES.get(get("value") or "")
        if stage is None:
            self.report.reject(f"unknown sleep value {get('value')!r}")
            return None
        try:
            start = parse_date(get("startDate") or "")
            end = parse_date(get("endDate") or "")
        except ValueError:
            self.report.reject("unparseable date")
            return None
        if end < start:
            self.report.reject("episode ends before it starts")
            return None
        source = self.sources.get(get("sourceName"), get("device"))
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
    source = SourceInfo(
        key=f"apple_health:ECG [Apple Watch; {hardware}]",
        name="Apple Watch ECG",
        kind="ecg",
        device=f"Apple Watch {hardware}",
    )
    yield rr_batch(source, beat_us, rr_ms, report, recording.utc_offset_s)
