"""Synthetic Garmin FIT files, written with the ``fit-tool`` package.

Two layouts, as Garmin devices write them:

* :func:`fit_activity` - an activity recorded with a paired HRM-Pro strap (or
  the watch alone): ``record`` heart rate at 1 Hz, ``hrv`` messages holding
  the beat intervals (up to five, None-padded), the sentinel intervals real
  files carry (5.000 s and over a minute), optionally a strap dropout, and an
  ``activity`` message whose ``local_timestamp`` gives the UTC offset.
* :func:`fit_wellness` - a day-monitoring file: ``monitoring`` heart rate
  mostly stamped with ``timestamp_16`` (crossing its 16-bit rollover),
  ``stress_level``, ``hrv_value``, ``respiration_rate`` (with sentinels),
  ``raw_bbi`` (with gap and low-quality entries) and ``hrv_status_summary``.

Deterministic for a seed. Each returns the file's bytes and its ground truth,
the values a reader following docs/formats.md must yield.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fit_tool.fit_file_builder import FitFileBuilder
from fit_tool.profile.messages.activity_message import ActivityMessage
from fit_tool.profile.messages.device_info_message import DeviceInfoMessage
from fit_tool.profile.messages.event_message import EventMessage
from fit_tool.profile.messages.file_id_message import FileIdMessage
from fit_tool.profile.messages.hrv_message import HrvMessage
from fit_tool.profile.messages.hrv_status_summary_message import HrvStatusSummaryMessage
from fit_tool.profile.messages.hrv_value_message import HrvValueMessage
from fit_tool.profile.messages.monitoring_info_message import MonitoringInfoMessage
from fit_tool.profile.messages.monitoring_message import MonitoringMessage
from fit_tool.profile.messages.raw_bbi_message import RawBbiMessage
from fit_tool.profile.messages.record_message import RecordMessage
from fit_tool.profile.messages.respiration_rate_message import RespirationRateMessage
from fit_tool.profile.messages.stress_level_message import StressLevelMessage
from fit_tool.profile.profile_type import (
    AntplusDeviceType,
    Event,
    EventType,
    FileType,
    GarminProduct,
    Manufacturer,
    SourceType,
)

FIT_EPOCH_S = 631_065_600  # 1989-12-31T00:00:00Z in Unix seconds
HRV_SLOTS = 5  # Garmin writes hrv.time as an array of five, None-padded
BBI_SLOTS = 15  # raw_bbi carries up to 15 entries
WATCH_SERIAL = 3_300_000_001
STRAP_SERIAL = 3_300_000_002
#: Sentinel intervals seen in real files: exactly 5.000 s, and over a minute.
SENTINELS_MS = (5000, 61000)

_DEFAULT_START = dt.datetime(2024, 5, 4, 7, 0, tzinfo=dt.UTC)


def _unix_ms(moment: dt.datetime) -> int:
    return round(moment.timestamp() * 1000)


def _us(unix_ms: int | np.ndarray) -> np.ndarray:
    return np.asarray(unix_ms, dtype=np.int64) * 1000


# -- activity -----------------------------------------------------------------


@dataclass(frozen=True)
class FitActivityTruth:
    """What :func:`fit_activity` wrote, in the units Vagus stores.

    ``beat_ts_us``/``rr_ms`` are the physiologically valid intervals and the
    true instants of the beats that end them; ``sentinels`` counts the
    out-of-bounds intervals also written (and to be rejected).
    """

    start_us: int
    utc_offset_s: int
    beat_ts_us: np.ndarray
    rr_ms: np.ndarray
    sentinels: int
    hrv_messages: int
    heart_rate_ts_us: np.ndarray
    heart_rate_bpm: np.ndarray
    strap: bool
    dropped_beats: int


def _rr_series(rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Integer-ms intervals with respiratory sinus arrhythmia, covering ``seconds``."""
    count = int(seconds / 0.5) + 10
    rr = np.empty(count)
    clock = 0.0
    for i in range(count):
        rr[i] = 900 + 60 * math.sin(2 * math.pi * clock / 4.5) + rng.normal(0, 15)
        clock += rr[i] / 1000
    rr = np.round(rr).astype(np.int64)
    return rr[: int(np.searchsorted(np.cumsum(rr), seconds * 1000)) + 1]


def fit_activity(
    *,
    seed: int = 0,
    minutes: float = 5.0,
    start: dt.datetime = _DEFAULT_START,
    utc_offset_s: int = 7200,
    strap: bool = True,
    sentinel_rate: float = 0.02,
    dropout: tuple[float, float] | None = None,
) -> tuple[bytes, FitActivityTruth]:
    """An activity FIT file and its truth.

    ``dropout=(at_s, length_s)`` loses the beats in that span (no ``hrv``
    entries), as when a strap loses skin contact; their time is gone from
    the beat sum, which a reader must recover from the record clock.
    """
    rng = np.random.default_rng(seed)
    start_ms = _unix_ms(start)
    rr = _rr_series(rng, minutes * 60)
    ends_ms = np.cumsum(rr)  # beat instants relative to start, ms
    lost = np.zeros(rr.size, dtype=bool)
    if dropout is not None:
        lost = (ends_ms > dropout[0] * 1000) & (ends_ms <= (dropout[0] + dropout[1]) * 1000)
    sentinel_before = rng.random(rr.size) < sentinel_rate
    sentinel_values = rng.choice(SENTINELS_MS, size=rr.size)

    builder = FitFileBuilder(auto_define=True)
    builder.add(_file_id(FileType.ACTIVITY, start_ms))
    builder.add(_watch_info(start_ms))
    if strap:
        builder.add(_strap_info(start_ms))
    builder.add(_timer_event(start_ms, EventType.START))

    hr_ts: list[int] = []
    hr_bpm: list[int] = []
    pending: list[int | None] = []
    hrv_messages = 0
    beat = 0
    total_s = int(ends_ms[-1] // 1000)
    for second in range(total_s + 1):
        # The 1 Hz record: the instantaneous rate of the latest beat so far.
        latest = max(0, int(np.searchsorted(ends_ms, second * 1000, side="right")) - 1)
        bpm = round(60000 / rr[latest])
        builder.add(_record(start_ms + second * 1000, bpm))
        hr_ts.append(start_ms + second * 1000)
        hr_bpm.append(bpm)
        # Then the beats of the coming second, in hrv messages of up to five.
        while beat < rr.size and ends_ms[beat] < (second + 1) * 1000:
            if not lost[beat]:
                if sentinel_before[beat]:
                    pending.append(int(sentinel_values[beat]))
                pending.append(int(rr[beat]))
            beat += 1
        while pending:
            chunk, pending = pending[:HRV_SLOTS], pending[HRV_SLOTS:]
            builder.add(_hrv(chunk))
            hrv_messages += 1
    end_ms = start_ms + (total_s + 1) * 1000
    builder.add(_timer_event(end_ms, EventType.STOP_ALL))
    builder.add(_activity(end_ms, utc_offset_s))

    kept = ~lost
    truth = FitActivityTruth(
        start_us=int(start_ms * 1000),
        utc_offset_s=utc_offset_s,
        beat_ts_us=_us(start_ms + ends_ms[kept]),
        rr_ms=rr[kept].astype(np.float64),
        sentinels=int(np.count_nonzero(sentinel_before & kept)),
        hrv_messages=hrv_messages,
        heart_rate_ts_us=_us(np.asarray(hr_ts)),
        heart_rate_bpm=np.asarray(hr_bpm, np.float64),
        strap=strap,
        dropped_beats=int(np.count_nonzero(lost)),
    )
    return builder.build().to_bytes(), truth


def write_fit_activity(path: Path, **options: Any) -> FitActivityTruth:
    """:func:`fit_activity` written to ``path``."""
    data, truth = fit_activity(**options)
    path.write_bytes(data)
    return truth


# -- wellness (monitoring) ----------------------------------------------------


@dataclass(frozen=True)
class FitWellnessTruth:
    """What :func:`fit_wellness` wrote: (ts_us, value) arrays per metric."""

    utc_offset_s: int
    heart_rate: tuple[np.ndarray, np.ndarray]
    timestamp_16_messages: int
    vendor_stress: tuple[np.ndarray, np.ndarray]
    stress_sentinels: int
    hrv_rmssd: tuple[np.ndarray, np.ndarray]
    respiratory_rate: tuple[np.ndarray, np.ndarray]
    respiration_sentinels: int
    bbi: tuple[np.ndarray, np.ndarray]
    bbi_low_quality: int
    bbi_gaps: int
    summaries: int


def _rollover_start(near: dt.datetime, before_wrap_s: int) -> int:
    """A Unix-ms start ``before_wrap_s`` before the FIT clock's low 16 bits wrap."""
    fit_s = int(near.timestamp()) - FIT_EPOCH_S
    wrap = (fit_s | 0xFFFF) + 1
    return (wrap - before_wrap_s + FIT_EPOCH_S) * 1000


def fit_wellness(
    *, seed: int = 0, hours: float = 2.0, start: dt.datetime = _DEFAULT_START, utc_offset_s: int = -18000
) -> tuple[bytes, FitWellnessTruth]:
    """A monitoring FIT file and its truth.

    The start is moved to 10 minutes before the FIT clock's low 16 bits wrap,
    so the ``timestamp_16`` values cross their rollover.
    """
    rng = np.random.default_rng(seed)
    start_ms = _rollover_start(start, 600)
    end_ms = start_ms + round(hours * 3_600_000)
    events: list[tuple[int, int, object]] = []  # (time ms, order, message)

    hr_ts, hr_val, t16 = [], [], 0
    for i, when in enumerate(range(start_ms, end_ms, 60_000)):
        bpm = int(rng.integers(50, 90))
        message = MonitoringMessage(local_id=3)
        if i % 30 == 0:  # a full timestamp every half hour, as devices do
            message.timestamp = when
        else:
            message.timestamp_16 = (when // 1000 - FIT_EPOCH_S) & 0xFFFF
            t16 += 1
        message.heart_rate = bpm
        events.append((when, 0, message))
        hr_ts.append(when)
        hr_val.append(bpm)

    stress_ts, stress_val, stress_bad = [], [], 0
    for when in range(start_ms, end_ms, 180_000):
        message = StressLevelMessage(local_id=4)
        message.stress_level_time = when
        if rng.random() < 0.15:
            message.stress_level_value = int(rng.choice([-1, -2]))
            stress_bad += 1
        else:
            value = int(rng.integers(0, 101))
            message.stress_level_value = value
            stress_ts.append(when)
            stress_val.append(value)
        events.append((when, 1, message))

    rmssd_ts, rmssd_val = [], []
    for when in range(start_ms, end_ms, 300_000):
        value = round(float(rng.uniform(20, 90)) * 128) / 128  # stored in 1/128 ms
        message = HrvValueMessage(local_id=5)
        message.timestamp = when
        message.value = value
        events.append((when, 2, message))
        rmssd_ts.append(when)
        rmssd_val.append(value)

    resp_ts, resp_val, resp_bad = [], [], 0
    for when in range(start_ms, end_ms, 120_000):
        message = RespirationRateMessage(local_id=6)
        message.timestamp = when
        if rng.random() < 0.15:
            message.respiration_rate = float(rng.choice([-1.0, -2.0]))
            resp_bad += 1
        else:
            value = int(rng.integers(1100, 1900)) / 100
            message.respiration_rate = value
            resp_ts.append(when)
            resp_val.append(value)
        events.append((when, 3, message))

    bbi_ts, bbi_val, low_quality, gaps = _raw_bbi_events(rng, start_ms, end_ms, events)

    summary = HrvStatusSummaryMessage(local_id=8)
    summary.timestamp = end_ms
    summary.last_night_average = 48.0
    summary.weekly_average = 50.0
    events.append((end_ms, 5, summary))

    builder = FitFileBuilder(auto_define=True)
    builder.add(_file_id(FileType.MONITORING_B, start_ms))
    builder.add(_watch_info(start_ms))
    info = MonitoringInfoMessage(local_id=2)
    info.timestamp = start_ms
    info.local_timestamp = start_ms // 1000 - FIT_EPOCH_S + utc_offset_s
    builder.add(info)
    for _when, _order, message in sorted(events, key=lambda e: (e[0], e[1])):
        builder.add(message)

    truth = FitWellnessTruth(
        utc_offset_s=utc_offset_s,
        heart_rate=(_us(np.asarray(hr_ts)), np.asarray(hr_val, np.float64)),
        timestamp_16_messages=t16,
        vendor_stress=(_us(np.asarray(stress_ts)), np.asarray(stress_val, np.float64)),
        stress_sentinels=stress_bad,
        hrv_rmssd=(_us(np.asarray(rmssd_ts)), np.asarray(rmssd_val, np.float64)),
        respiratory_rate=(_us(np.asarray(resp_ts)), np.asarray(resp_val, np.float64)),
        respiration_sentinels=resp_bad,
        bbi=(np.asarray(bbi_ts, np.int64), np.asarray(bbi_val, np.float64)),
        bbi_low_quality=low_quality,
        bbi_gaps=gaps,
        summaries=1,
    )
    return builder.build().to_bytes(), truth


def _raw_bbi_events(
    rng: np.random.Generator, start_ms: int, end_ms: int, events: list[tuple[int, int, object]]
) -> tuple[list[int], list[int], int, int]:
    """raw_bbi messages of 15 entries over the first 10 minutes, added to ``events``.

    Returns the truth: beat times (us) and intervals (ms) of the good entries,
    and the counts of low-quality and gap entries.

    The message time is the beat opening its first interval; a gap entry's
    time is the length of a span without beats.
    """
    clock = start_ms + 137  # not on a whole second: exercises timestamp_ms
    stop = min(end_ms, start_ms + 600_000)
    beat_ts, beat_ms, low, gaps = [], [], 0, 0
    while clock < stop:
        message = RawBbiMessage(local_id=7)
        message.timestamp = clock // 1000 * 1000
        message.timestamp_ms = clock % 1000
        times, quality, gap = [], [], []
        opened = clock
        for _ in range(BBI_SLOTS):
            is_gap = rng.random() < 0.03
            value = int(rng.integers(2000, 8000)) if is_gap else int(rng.integers(700, 1100))
            good = is_gap or rng.random() > 0.05
            clock += value
            times.append(value)
            gap.append(int(is_gap))
            quality.append(int(good))
            if is_gap:
                gaps += 1
            elif not good:
                low += 1
            else:
                beat_ts.append(clock * 1000)
                beat_ms.append(value)
        message.time = times
        message.quality = quality
        message.gap = gap
        events.append((opened, 4, message))
    return beat_ts, beat_ms, low, gaps


def write_fit_wellness(path: Path, **options: Any) -> FitWellnessTruth:
    """:func:`fit_wellness` written to ``path``."""
    data, truth = fit_wellness(**options)
    path.write_bytes(data)
    return truth


# -- message builders -----------------------------------------------------------


def _file_id(kind: FileType, created_ms: int) -> FileIdMessage:
    message = FileIdMessage(local_id=0)
    message.type = kind
    message.manufacturer = Manufacturer.GARMIN.value
    message.product = GarminProduct.FENIX7.value
    message.serial_number = WATCH_SERIAL
    message.time_created = created_ms
    return message


def _watch_info(when_ms: int) -> DeviceInfoMessage:
    message = DeviceInfoMessage(local_id=1)
    message.timestamp = when_ms
    message.device_index = 0  # the creator
    message.manufacturer = Manufacturer.GARMIN.value
    message.garmin_product = GarminProduct.FENIX7.value
    message.serial_number = WATCH_SERIAL
    message.source_type = SourceType.LOCAL
    return message


def _strap_info(when_ms: int) -> DeviceInfoMessage:
    message = DeviceInfoMessage(local_id=1)
    message.timestamp = when_ms
    message.device_index = 1
    message.source_type = SourceType.ANTPLUS
    message.antplus_device_type = AntplusDeviceType.HEART_RATE.value
    message.manufacturer = Manufacturer.GARMIN.value
    message.garmin_product = GarminProduct.HRM_PRO.value
    message.serial_number = STRAP_SERIAL
    return message


def _timer_event(when_ms: int, kind: EventType) -> EventMessage:
    message = EventMessage(local_id=2)
    message.timestamp = when_ms
    message.event = Event.TIMER
    message.event_type = kind
    return message


def _record(when_ms: int, bpm: int) -> RecordMessage:
    message = RecordMessage(local_id=3)
    message.timestamp = when_ms
    message.heart_rate = bpm
    return message


def _hrv(intervals_ms: list[int]) -> HrvMessage:
    message = HrvMessage(local_id=4)
    padded = [v / 1000 for v in intervals_ms] + [None] * (HRV_SLOTS - len(intervals_ms))
    message.time = padded
    return message


def _activity(when_ms: int, utc_offset_s: int) -> ActivityMessage:
    message = ActivityMessage(local_id=5)
    message.timestamp = when_ms
    message.local_timestamp = when_ms // 1000 - FIT_EPOCH_S + utc_offset_s
    return message
