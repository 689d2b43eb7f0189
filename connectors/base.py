"""Types every connector shares: what it yields, how it reports, how it fails.

A connector turns one export into a stream of items:

* :class:`SampleBatch` - many samples of one metric from one source, columnar
  (numpy arrays), so that ingest can COPY them without per-row Python work;
* :class:`Episode` - an interval that is not a sample (a sleep stage, a
  mindfulness session).

It never touches a database. What it skipped or rejected goes into the
:class:`ReadReport` it is handed, grouped by reason. Malformed input raises
:class:`ConnectorError`, whose message names the file, the line or record, and
the problem.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TypeVar

import numpy as np

#: The fixed metric vocabulary (DESIGN.md section 3). Units are normalised here.
METRICS: tuple[str, ...] = (
    "heart_rate",  # beats per minute
    "rr_interval",  # ms; ts is the beat that ends the interval
    "hrv_sdnn",  # ms, computed by the device
    "hrv_rmssd",  # ms, computed by the device
    "resting_heart_rate",  # bpm
    "respiratory_rate",  # breaths per minute
    "spo2",  # percent
    "skin_temperature_delta",  # degrees C against the device's baseline
    "vendor_stress",  # vendor's own score, as is
    "vendor_recovery",  # vendor's own score, as is
    "vendor_readiness",  # vendor's own score, as is
)
Metric = Literal[
    "heart_rate",
    "rr_interval",
    "hrv_sdnn",
    "hrv_rmssd",
    "resting_heart_rate",
    "respiratory_rate",
    "spo2",
    "skin_temperature_delta",
    "vendor_stress",
    "vendor_recovery",
    "vendor_readiness",
]

#: What kind of device a source is; drives the default read priority
#: (chest strap > ECG > watch > ring > phone > app > unknown).
SourceKind = Literal["chest_strap", "ecg", "watch", "ring", "phone", "app", "unknown"]
SOURCE_KINDS: tuple[str, ...] = ("chest_strap", "ecg", "watch", "ring", "phone", "app", "unknown")

#: Sleep stages and other intervals that are not samples.
EpisodeKind = Literal["in_bed", "asleep", "asleep_core", "asleep_deep", "asleep_rem", "awake", "mindful"]
EPISODE_KINDS: tuple[str, ...] = (
    "in_bed",
    "asleep",
    "asleep_core",
    "asleep_deep",
    "asleep_rem",
    "awake",
    "mindful",
)

#: Physiological bounds applied at import (DESIGN.md section 5 applies finer
#: artifact correction later). Values outside are rejected with a counted reason.
RR_BOUNDS_MS = (250.0, 2500.0)  # 24-240 bpm
HEART_RATE_BOUNDS_BPM = (20.0, 250.0)

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class ConnectorError(Exception):
    """Unknown or malformed input. The message names the file, where, and what."""

    def __init__(
        self, file: str | Path, problem: str, *, line: int | None = None, record: str | None = None
    ) -> None:
        self.file = str(file)
        self.line = line
        self.record = record
        self.problem = problem
        where = f" line {line}" if line is not None else ""
        where += f" ({record})" if record else ""
        super().__init__(f"{self.file}{where}: {problem}")


class NothingReadable(ConnectorError):
    """The input was read to its end and gave no sample and no episode at all."""


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """One device-and-app that wrote data. ``key`` is stable across exports."""

    key: str
    name: str
    kind: SourceKind = "unknown"
    device: str | None = None


@dataclass(slots=True)
class SampleBatch:
    """Samples of one metric from one source.

    ``ts`` holds UTC instants as int64 microseconds since the Unix epoch;
    ``value`` holds float64 values in the metric's normalised unit.
    ``utc_offset_s`` is the wall-clock offset the format recorded, if any.
    ``tags`` qualifies every sample of the batch where the format says more
    (for example Apple's heart-rate motion context), without a new metric.
    """

    source: SourceInfo
    metric: Metric
    ts: np.ndarray
    value: np.ndarray
    utc_offset_s: int | None = None
    tags: dict[str, str] | None = None

    def __post_init__(self) -> None:
        self.ts = np.asarray(self.ts, dtype=np.int64)
        self.value = np.asarray(self.value, dtype=np.float64)
        if self.ts.shape != self.value.shape or self.ts.ndim != 1:
            raise ValueError("ts and value must be 1-d arrays of equal length")

    def __len__(self) -> int:
        return int(self.ts.shape[0])


@dataclass(frozen=True, slots=True)
class Episode:
    """An interval: a sleep stage or a mindful session."""

    source: SourceInfo
    kind: EpisodeKind
    start: dt.datetime
    end: dt.datetime


Item = SampleBatch | Episode


@dataclass(slots=True)
class ReadReport:
    """What a connector read, skipped and rejected, and how far it got.

    ``rejected`` counts values that were in the file but refused (out of
    bounds, unparseable). ``skipped`` counts records of kinds Vagus does not
    import (steps, workouts). ``notes`` counts corrections applied (for
    example a daylight-saving shift of Apple beat times).
    """

    rejected: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    #: Where each reason was first met (``file line N`` or ``file (record)``),
    #: so that a counted rejection still points at one offending spot.
    first_seen: dict[str, str] = field(default_factory=dict)
    #: Per-part results when the input was a bundle of several exports.
    parts: list[PartReport] = field(default_factory=list)
    bytes_read: int = 0
    bytes_total: int | None = None
    on_progress: Callable[[ReadReport], None] | None = None

    def reject(self, reason: str, count: int = 1, where: str | None = None) -> None:
        if count:
            self.rejected[reason] += count
            if where is not None:
                self.first_seen.setdefault(reason, where)

    def skip(self, reason: str, count: int = 1, where: str | None = None) -> None:
        if count:
            self.skipped[reason] += count
            if where is not None:
                self.first_seen.setdefault(reason, where)

    def note(self, what: str, count: int = 1) -> None:
        if count:
            self.notes[what] += count

    def progress(self, bytes_read: int) -> None:
        self.bytes_read = bytes_read
        if self.on_progress is not None:
            self.on_progress(self)


@dataclass(slots=True)
class PartReport:
    """What one part of a bundle (one export inside a mixed folder or zip) gave."""

    format: str
    path: str
    samples: int = 0
    episodes: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "format": self.format,
            "path": self.path,
            "samples": self.samples,
            "episodes": self.episodes,
            "rejected": dict(self.rejected),
            "skipped": dict(self.skipped),
            "notes": dict(self.notes),
        }


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What the caller knows that the file may not say.

    ``start`` anchors files without absolute times (plain RR lists);
    ``tz`` is the person's IANA zone, for formats that write local times.
    """

    start: dt.datetime | None = None
    tz: str = "UTC"


class Connector(Protocol):
    """A parser for one source family.

    A connector may also have ``reads_inside``: names of other formats whose
    files it reads within its own export (the Garmin Connect export reads its
    nested FIT zips), so that a bundle leaves those to it.
    """

    name: str
    description: str

    def sniff(self, path: Path, head: bytes) -> bool:
        """True when ``path`` (whose first bytes are ``head``) is this format."""

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        """Yield the export's items, recording rejections in ``report``."""


def to_epoch_us(moment: dt.datetime) -> int:
    """A timezone-aware datetime as integer microseconds since the Unix epoch."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: a time zone is required")
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_epoch_us(us: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=int(us))


def keep_within(
    values: np.ndarray,
    bounds: tuple[float, float],
    reason: str,
    report: ReadReport,
    *,
    metric: str | None = None,
) -> np.ndarray:
    """Boolean mask of finite values inside ``bounds``; counts the rest.

    Values that are not finite numbers (NaN, infinities: what ``float`` makes of
    ``nan`` or ``1e999``) are counted as ``"<metric> is not a number"`` when
    ``metric`` is given, so that a report does not call them out of bounds.
    """
    low, high = bounds
    finite = np.isfinite(values)
    ok = finite & (values >= low) & (values <= high)
    if metric is not None:
        report.reject(not_a_number(metric), int(finite.size - np.count_nonzero(finite)))
        report.reject(reason, int(np.count_nonzero(finite) - np.count_nonzero(ok)))
    else:
        report.reject(reason, int(ok.size - np.count_nonzero(ok)))
    return ok


def not_a_number(metric: str) -> str:
    """The one reason under which a value that is not a finite number is counted."""
    return f"{metric} is not a number"


def rr_batch(
    source: SourceInfo,
    beat_ts_us: np.ndarray,
    rr_ms: np.ndarray,
    report: ReadReport,
    utc_offset_s: int | None = None,
) -> SampleBatch:
    """An ``rr_interval`` batch with out-of-bounds intervals rejected and counted."""
    ok = keep_within(
        rr_ms, RR_BOUNDS_MS, "rr_interval out of physiological bounds", report, metric="rr_interval"
    )
    return SampleBatch(source, "rr_interval", beat_ts_us[ok], rr_ms[ok], utc_offset_s)


def heart_rate_batch(
    source: SourceInfo,
    ts_us: np.ndarray,
    bpm: np.ndarray,
    report: ReadReport,
    utc_offset_s: int | None = None,
) -> SampleBatch:
    """A ``heart_rate`` batch with out-of-bounds values rejected and counted."""
    ok = keep_within(
        bpm, HEART_RATE_BOUNDS_BPM, "heart_rate out of physiological bounds", report, metric="heart_rate"
    )
    return SampleBatch(source, "heart_rate", ts_us[ok], bpm[ok], utc_offset_s)


# -- beat clocks ----------------------------------------------------------------

#: The longest interval a cumulative beat clock advances by. Formats that give
#: beat times only as a running sum of intervals (plain RR lists, Polar Sensor
#: Logger runs, Polar Flow RR without times) cannot survive one corrupt value:
#: ``99999999999`` or ``nan`` would move every later beat. A value that is not
#: finite, not positive, or longer than this cannot be time between two beats
#: (out-of-bounds values below it are artefacts that still took their time).
MAX_CLOCK_INTERVAL_MS = 60_000.0
CLOCK_BROKEN = "rr_interval unusable as a beat interval (not a number, not positive or over 60 s)"
AFTER_CLOCK_BROKEN = "rr_interval after an unusable interval (beat times unknown)"


def clock_usable(rr_ms: np.ndarray) -> np.ndarray:
    """Mask of intervals a beat clock may add up (see ``MAX_CLOCK_INTERVAL_MS``)."""
    rr_ms = np.asarray(rr_ms, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.isfinite(rr_ms) & (rr_ms > 0) & (rr_ms <= MAX_CLOCK_INTERVAL_MS)


# -- nothing readable -------------------------------------------------------------

ReadMethod = TypeVar("ReadMethod", bound=Callable[..., Iterator[Item]])


def requires_data(read: ReadMethod) -> ReadMethod:
    """Wrap a connector's ``read``: an input that gives no sample and no episode fails.

    A file read to its end without a single sample (a CSV with only a header,
    a text whose line endings were not seen, an export of step counts only)
    is not a successful import of nothing: it raises :class:`NothingReadable`
    naming the file and what the report counted instead.
    """

    @functools.wraps(read)
    def checked(self: object, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        found = False
        for item in read(self, path, ctx, report):
            found = found or isinstance(item, Episode) or len(item) > 0
            yield item
        if not found:
            raise NothingReadable(path, nothing_readable_problem(report))

    return checked  # type: ignore[return-value]


def nothing_readable_problem(report: ReadReport) -> str:
    """Why nothing was read, from the report's largest counts."""
    said = []
    for title, counts in (("rejected", report.rejected), ("skipped", report.skipped)):
        if counts:
            top = ", ".join(f"{count} {reason}" for reason, count in counts.most_common(3))
            more = " and more" if len(counts) > 3 else ""
            said.append(f"{title}: {top}{more}")
    detail = f" ({'; '.join(said)})" if said else ""
    return f"nothing readable: no samples or episodes found{detail}"
