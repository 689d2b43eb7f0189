"""Garmin FIT files: beat-to-beat, heart rate and the watch's own HRV/stress values.

Reads one ``.fit`` file, a folder of them, or a zip of them (the
``UploadedFiles`` zips of a Garmin Connect data export). Decoding is done by
``fitdecode`` with CRC checking on; this module interprets the messages.
Messages and fields are addressed by their *number* from the FIT profile, not
by name, so that files from newer firmware (which fitdecode may call
``unknown_NNN``) read the same way. The format notes, with the reasons for each
choice, are in ``docs/formats.md`` ("Garmin FIT").

Each FIT file is small (kilobytes to a few MB), so a file is decoded whole and
its batches yielded before the next file is opened: memory is bounded by the
largest single file, not by the export.
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import fitdecode
import numpy as np

from . import archive
from .base import (
    HEART_RATE_BOUNDS_BPM,
    RR_BOUNDS_MS,
    ConnectorError,
    Item,
    Metric,
    ReadContext,
    ReadReport,
    SampleBatch,
    SourceInfo,
    SourceKind,
    heart_rate_batch,
    keep_within,
    requires_data,
    rr_batch,
)

# FIT profile message numbers (Profile.xlsx, FIT SDK 21.x).
FILE_ID, DEVICE_INFO, EVENT, RECORD, ACTIVITY = 0, 23, 21, 20, 34
MONITORING, HRV, MONITORING_INFO, HR = 55, 78, 103, 132
MONITORING_HR_DATA, STRESS_LEVEL, RESPIRATION_RATE = 211, 227, 297
HRV_STATUS_SUMMARY, HRV_VALUE, RAW_BBI = 370, 371, 372

TIMESTAMP = 253  # field number of ``timestamp`` in every message that has one
FIT_EPOCH_S = 631_065_600  # 1989-12-31T00:00:00Z in Unix seconds
#: FIT date_time values below this are seconds since device power-on, not UTC.
FIT_DATETIME_MIN = 0x10000000

#: The beat clock of ``hrv`` messages is re-anchored when it lags the file's
#: own clock (record/event timestamps) by more than this: beats were lost.
#: Real files lag by under 2 s in normal running (hrv is written in bursts).
RESYNC_TOLERANCE_S = 5.0
#: Bounds for ``respiration_rate`` (breaths/min); negative values are sentinels.
RESPIRATION_BOUNDS = (2.0, 80.0)
#: Member paths of a Garmin Connect data export (the outer zip).
GARMIN_EXPORT_PREFIX = "DI_CONNECT/"
#: A zip member larger than this is not a FIT file we can hold in memory.
MAX_MEMBER_BYTES = 256 << 20

_ANT_HEART_RATE = 120  # antplus_device_type heart_rate
_BLE_HEART_RATE = 1  # ble_device_type heart_rate
_SOURCE_LOCAL, _SOURCE_BLE = 5, 3


def fit_time_us(seconds: int) -> int:
    """A FIT ``date_time`` (whole seconds since 1989-12-31 UTC) as Unix microseconds."""
    return (seconds + FIT_EPOCH_S) * 1_000_000


def expand_timestamp_16(last_full_s: int, t16: int) -> int:
    """Rebuild a full FIT time from ``timestamp_16`` (its low 16 bits).

    ``timestamp_16`` is only ever later than the last full timestamp in the
    file, by less than 2**16 s (18 h): add the forward difference modulo 2**16.
    """
    return last_full_s + ((t16 - (last_full_s & 0xFFFF)) & 0xFFFF)


def rollover(previous: int, low_bits: int, bits: int) -> int:
    """The smallest value >= ``previous`` whose low ``bits`` are ``low_bits``.

    FIT's accumulated fields (``hr.event_timestamp_12``) carry only the low
    bits of a counter that only grows.
    """
    size = 1 << bits
    value = (previous & ~(size - 1)) | low_bits
    return value + size if value < previous else value


def unpack_12bit(packed: bytes | tuple[int, ...]) -> list[int]:
    """Split ``hr.event_timestamp_12`` bytes into little-endian 12-bit values."""
    raw = int.from_bytes(bytes(packed), "little")
    return [(raw >> (12 * i)) & 0xFFF for i in range(len(packed) * 8 // 12)]


def _own_fields(message: fitdecode.FitDataMessage) -> dict[int, Any]:
    """Raw (unscaled) values by field number, skipping fitdecode's expanded components.

    Components (for example the ``event_timestamp`` values fitdecode derives
    from ``event_timestamp_12``) have no field definition of their own; the
    timestamp of a compressed-timestamp header has none either but is kept.
    """
    values: dict[int, Any] = {}
    for data in message.fields:
        if data.field_def is not None and data.field_def.is_dev:
            continue  # developer (Connect IQ) fields have their own numbering
        number = (
            data.field_def.def_num
            if data.field_def is not None
            else (TIMESTAMP if data.field is not None and data.field.def_num == TIMESTAMP else None)
        )
        if number is not None and number not in values:
            values[number] = data.raw_value
    return values


def _field_value(message: fitdecode.FitDataMessage, number: int) -> Any:
    """fitdecode's decoded value (names for enums, e.g. ``garmin_product``)."""
    for data in message.fields:
        if data.field_def is not None and not data.field_def.is_dev and data.field_def.def_num == number:
            return data.value
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (tuple, list)) else [value]


@dataclass(frozen=True, slots=True)
class _Device:
    """What file_id/device_info say about one device."""

    manufacturer: str
    product: str
    serial: int | None

    def source(self, kind: SourceKind) -> SourceInfo:
        ident = f"sn{self.serial}" if self.serial else self.product.replace(" ", "_")
        label = f"{self.manufacturer.title()} {self.product}"
        serial = f" serial {self.serial}" if self.serial else ""
        return SourceInfo(
            key=f"fit:{self.manufacturer}:{ident}",
            name=label,
            kind=kind,
            device=f"{self.manufacturer} {self.product}{serial}",
        )


def _device(
    message: fitdecode.FitDataMessage,
    raw: dict[int, Any],
    manufacturer_field: int,
    product_field: int,
    serial_field: int,
    name_field: int,
) -> _Device:
    maker = _field_value(message, manufacturer_field)
    product = raw.get(name_field) and _field_value(message, name_field)
    product = product or _field_value(message, product_field)
    serial = raw.get(serial_field)
    return _Device(
        manufacturer=str(maker if maker is not None else "unknown").lower(),
        product=str(product if product is not None else "unknown").replace("_", " "),
        serial=serial if isinstance(serial, int) and serial else None,
    )


def _sensor_kind(device: _Device, creator: _Device | None) -> SourceKind:
    """A paired heart-rate sensor is a chest strap unless it is a watch's optical relay.

    Garmin watches can broadcast their wrist (optical) heart rate over ANT+;
    an Edge then lists it as a heart-rate device named ``OHR`` carrying the
    watch's own serial number.
    """
    optical = "ohr" in device.product.lower() or "optical" in device.product.lower()
    if optical or (creator is not None and device.serial and device.serial == creator.serial):
        return "watch"
    return "chest_strap"


@dataclass
class _FileState:
    """Everything collected from one FIT file before its batches are built."""

    creator: _Device | None = None
    sensor: _Device | None = None
    utc_offset_s: int | None = None
    last_full_s: int | None = None  # last full timestamp, for timestamp_16
    floor_s: int | None = None  # latest record/event time: the file's wall clock
    first_record_s: int | None = None
    timer_start_s: int | None = None
    created_s: int | None = None
    # Integer microseconds, so that summed intervals carry no rounding drift.
    beat_clock_us: int | None = None
    hr_anchor: tuple[int, int] | None = None  # (Unix us, event counter) of hr
    hr_event: int | None = None
    # (role, metric) -> ([Unix us], [values]); role "creator", "sensor" or "hrm"
    series: dict[tuple[str, Metric], tuple[list[int], list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: ([], []))
    )

    def add(self, role: str, metric: Metric, ts_us: int, value: float) -> None:
        times, values = self.series[(role, metric)]
        times.append(ts_us)
        values.append(value)


class _Decoder:
    """Turns the messages of one FIT file into sample lists, by message number."""

    def __init__(self, state: _FileState, report: ReadReport) -> None:
        self.state = state
        self.report = report
        self.handlers = {
            FILE_ID: self._file_id,
            DEVICE_INFO: self._device_info,
            EVENT: self._event,
            RECORD: self._record,
            ACTIVITY: self._local_time,
            MONITORING_INFO: self._local_time,
            MONITORING: self._monitoring,
            HRV: self._hrv,
            HR: self._hr,
            MONITORING_HR_DATA: self._resting_hr,
            STRESS_LEVEL: self._stress,
            RESPIRATION_RATE: self._respiration,
            HRV_STATUS_SUMMARY: self._hrv_summary,
            HRV_VALUE: self._hrv_value,
            RAW_BBI: self._raw_bbi,
        }

    def message(self, message: fitdecode.FitDataMessage) -> None:
        raw = _own_fields(message)
        stamp = raw.get(TIMESTAMP)
        if isinstance(stamp, int) and stamp >= FIT_DATETIME_MIN:
            self.state.last_full_s = stamp
        handler = self.handlers.get(message.global_mesg_num)
        if handler is None:
            self.report.skip(f"FIT message {message.global_mesg_num} ({message.name})")
            return
        try:
            handler(message, raw)
        except (TypeError, ValueError, OverflowError, IndexError):
            # A damaged file's definition can give a field another type or an
            # array where the profile has one number (tuples, strings, NaN).
            self.report.reject(f"FIT {message.name} message with malformed fields")

    # -- time helpers -------------------------------------------------------

    def _utc(self, raw: dict[int, Any], field_number: int = TIMESTAMP) -> int | None:
        """A full UTC timestamp, or None (counted) when absent or relative."""
        value = raw.get(field_number)
        if isinstance(value, int) and value >= FIT_DATETIME_MIN:
            return value
        self.report.reject("FIT sample without an absolute UTC time")
        return None

    # -- device identity ------------------------------------------------------

    def _file_id(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        self.state.creator = _device(message, raw, 1, 2, 3, 8)
        self.state.sensor = None  # a chained file with its own identity
        created = raw.get(4)
        if isinstance(created, int) and created >= FIT_DATETIME_MIN:
            self.state.created_s = created

    def _device_info(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        index, kind, source_type = raw.get(0), raw.get(1), raw.get(25)
        if index == 0 and self.state.creator is None:
            self.state.creator = _device(message, raw, 2, 4, 3, 27)
            return
        heart_rate = (
            kind == _BLE_HEART_RATE
            if source_type == _SOURCE_BLE
            else kind == _ANT_HEART_RATE and source_type != _SOURCE_LOCAL
        )
        if heart_rate and self.state.sensor is None:
            self.state.sensor = _device(message, raw, 2, 4, 3, 27)

    # -- clocks -----------------------------------------------------------------

    def _event(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        stamp = raw.get(TIMESTAMP)
        if not (isinstance(stamp, int) and stamp >= FIT_DATETIME_MIN):
            return
        self._advance_floor(stamp)
        if raw.get(0) == 0 and raw.get(1) == 0 and self.state.timer_start_s is None:
            self.state.timer_start_s = stamp  # event timer, type start

    def _advance_floor(self, stamp: int) -> None:
        floor = self.state.floor_s
        self.state.floor_s = stamp if floor is None else max(floor, stamp)

    def _local_time(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        """``local_timestamp`` minus ``timestamp`` is the device's UTC offset.

        Decoders render ``local_timestamp`` as if it were UTC; it is the
        wall-clock time. Rounded to the quarter hour every zone uses.
        """
        local = raw.get(5 if message.global_mesg_num == ACTIVITY else 0)
        self._offset_from(local, raw.get(TIMESTAMP))

    def _offset_from(self, local: Any, stamp: Any) -> None:
        if self.state.utc_offset_s is not None or not isinstance(local, int):
            return
        if not (isinstance(stamp, int) and stamp >= FIT_DATETIME_MIN):
            return
        offset = round((local - stamp) / 900) * 900
        if abs(offset) <= 14 * 3600:
            self.state.utc_offset_s = offset

    # -- heart rate -------------------------------------------------------------

    def _record(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        stamp = raw.get(TIMESTAMP)
        if isinstance(stamp, int) and stamp >= FIT_DATETIME_MIN:
            self._advance_floor(stamp)
            if self.state.first_record_s is None:
                self.state.first_record_s = stamp
        bpm = raw.get(3)
        if bpm is None:
            self.report.skip("FIT record without heart_rate")
            return
        stamp = self._utc(raw)
        if stamp is not None:
            self.state.add("sensor", "heart_rate", fit_time_us(stamp), float(bpm))

    def _monitoring(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        self._offset_from(raw.get(11), raw.get(TIMESTAMP))
        bpm = raw.get(27)
        if bpm is None:
            self.report.skip("FIT monitoring without heart_rate")
            return
        stamp = raw.get(TIMESTAMP)
        if stamp is None and raw.get(26) is not None and self.state.last_full_s is not None:
            stamp = expand_timestamp_16(self.state.last_full_s, raw[26])
        if not (isinstance(stamp, int) and stamp >= FIT_DATETIME_MIN):
            self.report.reject("FIT monitoring heart_rate without a full timestamp before it")
            return
        self.state.add("creator", "heart_rate", fit_time_us(stamp), float(bpm))

    def _hr(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        """``hr`` (132): per-beat times from an HRM's memory, with filtered bpm.

        A message with ``timestamp`` + ``fractional_timestamp`` ties the
        strap's event counter (``event_timestamp``, 1/1024 s) to UTC; later
        messages carry eight beats each as the counter's low 12 bits
        (``event_timestamp_12``), accumulated with rollover.
        """
        bpm = _as_list(raw.get(6))
        events = [int(e) for e in _as_list(raw.get(9)) if e is not None]
        stamp = raw.get(TIMESTAMP)
        if events and isinstance(stamp, int) and stamp >= FIT_DATETIME_MIN:
            fraction_us = round((raw.get(0) or 0) * 1_000_000 / 32768)
            self.state.hr_anchor = (fit_time_us(stamp) + fraction_us, events[0])
        packed = raw.get(10)
        if packed is not None:
            if self.state.hr_event is None:
                self.report.reject(
                    "FIT hr beat times before any anchoring event_timestamp", len(unpack_12bit(packed))
                )
                return
            counter, events = self.state.hr_event, []
            for low in unpack_12bit(packed):
                counter = rollover(counter, low, 12)
                events.append(counter)
        if not events:
            return
        if self.state.hr_anchor is None:
            self.report.reject("FIT hr beat times before any anchoring event_timestamp", len(events))
            return
        anchor_us, anchor_event = self.state.hr_anchor
        previous = self.state.hr_event
        for index, event in enumerate(events):
            if previous is not None and event == previous:
                self.report.skip("FIT hr padding (repeated beat time)")
                continue
            previous = event
            value = bpm[index] if index < len(bpm) else None
            if value is not None:
                beat_us = anchor_us + round((event - anchor_event) * 1_000_000 / 1024)
                self.state.add("hrm", "heart_rate", beat_us, float(value))
        self.state.hr_event = events[-1]

    def _resting_hr(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        value = raw.get(0)
        stamp = self._utc(raw) if value is not None else None
        if stamp is not None and value is not None:
            self.state.add("creator", "resting_heart_rate", fit_time_us(stamp), float(value))

    # -- beat to beat -------------------------------------------------------------

    def _hrv_start_us(self) -> int | None:
        """Where the ``hrv`` beat clock starts: the recording's start.

        The first timer start is when recording began; files without one fall
        back to the first record, then to file_id.time_created.
        """
        state = self.state
        for candidate in (state.timer_start_s, state.first_record_s, state.created_s):
            if candidate is not None:
                return fit_time_us(candidate)
        return None

    def _hrv(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        """``hrv`` (78): up to five beat intervals (ms), None-padded, no timestamps.

        Beat times accumulate on a clock started at the recording's start. An
        interval outside physiological bounds (Garmin writes exactly 5.000 s
        and values of a minute or more when the strap loses contact) is a
        sentinel, not a pause of that length: it is rejected and does *not*
        advance the clock. Lost time is recovered instead by re-anchoring the
        clock to the file's own record/event times whenever it lags them by
        more than ``RESYNC_TOLERANCE_S``.
        """
        values = [v for v in _as_list(raw.get(0)) if v is not None]
        if not values:
            return
        state = self.state
        if state.beat_clock_us is None:
            state.beat_clock_us = self._hrv_start_us()
            if state.beat_clock_us is None:
                self.report.reject("FIT hrv without a recording start time", len(values))
                return
        if state.floor_s is not None:
            floor_us = fit_time_us(state.floor_s)
            if state.beat_clock_us < floor_us - RESYNC_TOLERANCE_S * 1_000_000:
                state.beat_clock_us = floor_us
                self.report.note("FIT hrv beat clock re-anchored to the file clock after lost beats")
        low, high = RR_BOUNDS_MS
        for value_ms in values:
            if low <= value_ms <= high:
                state.beat_clock_us += value_ms * 1000
            state.add("sensor", "rr_interval", state.beat_clock_us, float(value_ms))

    def _raw_bbi(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        """``raw_bbi`` (372): the watch's optical beat intervals with flags.

        Each entry is an interval (ms) or, with ``gap`` set, the length of a
        gap without beats; ``quality`` 0 marks a low-confidence interval. The
        message time (``timestamp`` + ``timestamp_ms``) is taken as the beat
        that opens the first interval. Low-confidence intervals are rejected
        (counted) but keep their time on the clock, as gaps do.
        """
        stamp = self._utc(raw)
        if stamp is None:
            return
        times, quality, gaps = self._bbi_entries(raw)
        clock_us = fit_time_us(stamp) + (raw.get(0) or 0) * 1000
        for index, interval in enumerate(times):
            if interval is None:
                continue
            clock_us += interval * 1000
            if index < len(gaps) and gaps[index]:
                self.report.note("FIT raw_bbi gap entries")
                continue
            if index < len(quality) and quality[index] == 0:
                self.report.reject("FIT raw_bbi interval flagged low quality by the device")
                continue
            self.state.add("creator", "rr_interval", clock_us, float(interval))

    @staticmethod
    def _bbi_entries(raw: dict[int, Any]) -> tuple[list[Any], list[Any], list[Any]]:
        """(time, quality, gap) lists from the packed ``data`` or the plain arrays."""
        packed = [d for d in _as_list(raw.get(1)) if d is not None]
        if packed:
            return (
                [d & 0x3FFF for d in packed],
                [(d >> 14) & 1 for d in packed],
                [(d >> 15) & 1 for d in packed],
            )
        return _as_list(raw.get(2)), _as_list(raw.get(3)), _as_list(raw.get(4))

    # -- the watch's own scores -------------------------------------------------

    def _stress(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        """``stress_level`` (227): Garmin's 0-100 score; negative values mean unmeasured."""
        value = raw.get(0)
        if value is None:
            return
        if value < 0:
            self.report.reject("FIT stress_level sentinel (negative: not measured)")
            return
        stamp = self._utc(raw, 1)
        if stamp is not None:
            self.state.add("creator", "vendor_stress", fit_time_us(stamp), float(value))

    def _respiration(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        """``respiration_rate`` (297): breaths/min x 100; negative values are sentinels."""
        value = raw.get(0)
        if value is None:
            return
        if value < 0:
            self.report.reject("FIT respiration_rate sentinel (negative: not measured)")
            return
        stamp = self._utc(raw)
        if stamp is not None:
            self.state.add("creator", "respiratory_rate", fit_time_us(stamp), value / 100)

    def _hrv_value(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        """``hrv_value`` (371): the watch's 5-minute RMSSD during sleep, ms x 128."""
        value = raw.get(0)
        stamp = self._utc(raw) if value is not None else None
        if stamp is not None and value is not None:
            self.state.add("creator", "hrv_rmssd", fit_time_us(stamp), value / 128)

    def _hrv_summary(self, message: fitdecode.FitDataMessage, raw: dict[int, Any]) -> None:
        # A nightly average of the hrv_value RMSSDs plus Garmin's own baseline
        # band: storing it as hrv_rmssd would count the same night twice.
        self.report.skip("FIT hrv_status_summary (nightly summary of hrv_value)")


def _batches(state: _FileState, report: ReadReport) -> Iterator[SampleBatch]:
    """The collected series as batches, sorted by time, with sources resolved."""
    creator = state.creator or _Device("unknown", "unknown device", None)
    sources = {"creator": creator.source("watch")}
    sensor = state.sensor
    sources["sensor"] = sensor.source(_sensor_kind(sensor, state.creator)) if sensor else sources["creator"]
    # ``hr`` messages only ever hold an HRM strap's stored beats (the watch
    # could not receive them live, as when swimming). When device_info does
    # not name the strap, it is still a strap: keyed by the watch it paired with.
    watch = sources["creator"]
    sources["hrm"] = (
        sources["sensor"]
        if sensor
        else SourceInfo(
            key=f"{watch.key}:hrm",
            name=f"HRM paired with {watch.name}",
            kind="chest_strap",
            device=f"heart-rate strap paired with {watch.device}",
        )
    )
    for (role, metric), (times, values) in sorted(state.series.items()):
        stamps = np.asarray(times, dtype=np.int64)
        order = np.argsort(stamps, kind="stable")
        ts = stamps[order]
        value = np.asarray(values, dtype=np.float64)[order]
        source = sources[role]
        if metric == "rr_interval":
            yield rr_batch(source, ts, value, report, state.utc_offset_s)
        elif metric == "heart_rate":
            yield heart_rate_batch(source, ts, value, report, state.utc_offset_s)
        elif metric == "resting_heart_rate":
            ok = keep_within(
                value, HEART_RATE_BOUNDS_BPM, "resting_heart_rate out of physiological bounds", report
            )
            yield SampleBatch(source, metric, ts[ok], value[ok], state.utc_offset_s)
        elif metric == "respiratory_rate":
            ok = keep_within(
                value, RESPIRATION_BOUNDS, "respiratory_rate out of physiological bounds", report
            )
            yield SampleBatch(source, metric, ts[ok], value[ok], state.utc_offset_s)
        else:
            yield SampleBatch(source, metric, ts, value, state.utc_offset_s)


def decode_fit(stream: IO[bytes], name: str, report: ReadReport) -> Iterator[SampleBatch]:
    """Batches from one FIT stream (chained FIT files inside are read in turn).

    Raises :class:`ConnectorError` naming ``name`` and the byte offset when
    the file is truncated, fails its CRC, or is not FIT at all.
    """
    state: _FileState | None = None
    with fitdecode.FitReader(
        stream, check_crc=fitdecode.CrcCheck.RAISE, error_handling=fitdecode.ErrorHandling.RAISE
    ) as reader:
        for frame in _frames(reader, name):
            if isinstance(frame, fitdecode.FitHeader):
                previous = state
                state = _FileState()
                if previous is not None:
                    yield from _batches(previous, report)
                    # A chained file without its own file_id (Garmin appends
                    # the HRM's stored ``hr`` data this way) is the same
                    # recording: it keeps the devices and the UTC offset.
                    state.creator, state.sensor = previous.creator, previous.sensor
                    state.utc_offset_s = previous.utc_offset_s
                decoder = _Decoder(state, report)
            elif isinstance(frame, fitdecode.FitDataMessage):
                decoder.message(frame)
    if state is None:
        raise ConnectorError(name, "empty file: no FIT header")
    yield from _batches(state, report)


def _frames(reader: fitdecode.FitReader, name: str) -> Iterator[Any]:
    """fitdecode's frames, with every way it reports a damaged file as a ConnectorError.

    Besides its own FitError, fitdecode raises struct.error where a truncated
    header or definition leaves too few bytes for a field, fails an internal
    assertion when a record runs past the declared data size, and raises
    ValueError or TypeError when a definition gives a field an impossible size
    or an array where its processors expect one number. Only fitdecode's own
    code runs inside ``next``, so catching these hides no bug of this module.
    """
    frames = iter(reader)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except (
            fitdecode.FitError,
            struct.error,
            EOFError,
            AssertionError,
            ValueError,
            TypeError,
            IndexError,
            KeyError,
            OverflowError,
        ) as exc:
            offset = getattr(exc, "offset", None)
            where = f"byte {offset}" if offset is not None else None
            problem = str(exc) or "a record runs past the file's declared data size"
            raise ConnectorError(name, f"not a readable FIT file: {problem}", record=where) from exc
        yield frame


def _is_fit_head(head: bytes) -> bool:
    return len(head) >= 12 and head[0] in (12, 14) and head[8:12] == b".FIT"


def _fit_files_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() == ".fit")


def _has_fit_file(folder: Path) -> bool:
    for _root, _dirs, files in os.walk(folder):
        if any(name.lower().endswith(".fit") for name in files):
            return True
    return False


def _no_fit_problem(zipped: zipfile.ZipFile) -> str:
    """Why a zip gave nothing, and what to import instead."""
    nested = [i.filename for i in archive.members(zipped, ".zip")]
    if nested:
        # The whole account export (nested zips included) is garmin_connect's.
        return (
            "no .fit files at the top level of this zip; a Garmin Connect export keeps "
            f"them in nested zips such as {nested[0]!r}: import the whole export as "
            "garmin_connect (detected without --format)"
        )
    return "no .fit files in this zip"


class GarminFit:
    """Connector for FIT files, folders of FIT files and zips of FIT files."""

    name = "garmin_fit"
    description = "Garmin FIT file, a folder of them, or a zip of them (Garmin Connect export)"

    def sniff(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return _has_fit_file(path)
        if _is_fit_head(head):
            return True
        if head[:4] == b"PK\x03\x04" and archive.is_zip(path):
            try:
                with zipfile.ZipFile(path) as zipped:
                    names = zipped.namelist()
            except (zipfile.BadZipFile, OSError):
                return False
            return any(n.lower().endswith(".fit") or n.startswith(GARMIN_EXPORT_PREFIX) for n in names)
        return False

    @requires_data
    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        if path.is_dir():
            yield from self._read_folder(path, report)
        elif archive.is_zip(path):
            yield from self._read_zip(path, report)
        else:
            report.bytes_total = path.stat().st_size
            with path.open("rb") as handle:
                yield from decode_fit(handle, str(path), report)
            report.progress(report.bytes_total)

    @staticmethod
    def _read_folder(path: Path, report: ReadReport) -> Iterator[Item]:
        files = _fit_files_in(path)
        report.bytes_total = sum(f.stat().st_size for f in files)
        done = 0
        for file in files:
            with file.open("rb") as handle:
                yield from decode_fit(handle, str(file), report)
            done += file.stat().st_size
            report.progress(done)

    @staticmethod
    def _read_zip(path: Path, report: ReadReport) -> Iterator[Item]:
        with archive.open_checked(path) as zipped:
            fits = list(archive.members(zipped, ".fit"))
            if not fits:
                raise ConnectorError(path, _no_fit_problem(zipped))
            report.skip(
                "zip member that is not a .fit file",
                sum(1 for i in zipped.infolist() if not i.is_dir()) - len(fits),
            )
            report.bytes_total = sum(i.file_size for i in fits)
            done = 0
            for info in fits:
                name = f"{path}!{info.filename}"
                if info.file_size > MAX_MEMBER_BYTES:
                    raise ConnectorError(
                        name, f"member of {info.file_size} bytes is too large for a FIT file"
                    )
                # FIT files are small; fitdecode wants a seekable stream.
                try:
                    with zipped.open(info) as member:
                        data = io.BytesIO(member.read())
                except archive.READ_ERRORS as exc:
                    raise ConnectorError(name, f"could not read the member: {exc}") from exc
                yield from decode_fit(data, name, report)
                done += info.file_size
                report.progress(done)
