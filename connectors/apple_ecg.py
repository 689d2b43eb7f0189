"""Apple Watch ECG recordings (``electrocardiograms/*.csv``) as RR intervals.

Each file is a header of ``key,value`` lines, for example::

    Recorded Date,2024-03-30 10:15:00 +0100
    Device,"Watch6,2"
    Sample Rate,512 hertz
    Lead,Lead I
    Unit,µV

then one voltage per line: about 15 000 values for 30 seconds at 512 Hz. The
header keys are translated in non-English exports and a comma-decimal locale
writes values such as ``"-13,385"`` (quoted), so the reader recognises header
values by their shape (a date with offset, a rate in hertz, a unit) rather than
by key. R-peaks are found with neurokit2; the RR interval ending at each peak
is stored, which makes a 30-second ECG the most precise beat-to-beat source an
Apple Watch has.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from .base import ConnectorError, to_epoch_us
from .localtime import MAX_OFFSET_S

_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}")
_RATE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:hertz|hz)\b", re.IGNORECASE)
_VALUE = re.compile(r'^\s*"?\s*[-+]?\d+(?:[.,]\d+)?\s*"?\s*$')
_DEVICE = re.compile(r"^\s*(Watch\d+,\d+)\s*$")
#: Voltage units and their factor to µV.
_UNITS = {"µv": 1.0, "μv": 1.0, "uv": 1.0, "mv": 1000.0}
#: Recordings shorter than this cannot give a reliable peak detection.
MIN_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class EcgRecording:
    """One ECG: its start (UTC µs and recorded offset), rate, trace and device."""

    start_us: int
    utc_offset_s: int
    rate_hz: float
    microvolts: np.ndarray
    hardware: str | None


def parse_ecg(text: str, name: str) -> EcgRecording:
    """Read one ECG CSV; raises :class:`ConnectorError` naming ``name`` and the line."""
    start: dt.datetime | None = None
    rate: float | None = None
    factor = 1.0
    hardware: str | None = None
    values: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        if _VALUE.match(line) and rate is not None:
            values.append(line.replace('"', "").replace(",", ".").strip())
            continue
        if values:
            raise ConnectorError(name, f"expected one voltage per line, found {line[:40]!r}", line=number)
        _key, _, value = line.partition(",")
        value = value.strip().strip('"').strip()
        if start is None and (date := _DATE.search(value)):
            start = _recorded_date(date.group(0), name, number)
        elif rate is None and (hertz := _RATE.match(value)):
            rate = float(hertz.group(1).replace(",", "."))
        elif value.lower() in _UNITS:
            factor = _UNITS[value.lower()]
        elif hardware is None and (device := _DEVICE.match(value)):
            hardware = device.group(1)
    if start is None or rate is None or rate <= 0:
        raise ConnectorError(name, "not an Apple Watch ECG: no recorded date or sample rate in the header")
    try:
        trace = np.asarray(values, dtype=np.float64) * factor
    except ValueError as exc:  # "-" or "+" alone matched the value pattern's shape
        raise ConnectorError(name, f"a voltage is not a number ({exc})") from None
    if not np.isfinite(trace).all():
        raise ConnectorError(name, "a voltage is not a finite number")
    offset = start.utcoffset()
    return EcgRecording(
        start_us=to_epoch_us(start),
        utc_offset_s=int(offset.total_seconds()) if offset else 0,
        rate_hz=rate,
        microvolts=trace,
        hardware=hardware,
    )


def _recorded_date(text: str, name: str, number: int) -> dt.datetime:
    """``2024-03-30 10:15:00 +0100`` as an aware datetime; impossible ones refused."""
    try:
        moment = dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    except ValueError as exc:
        raise ConnectorError(name, f"recorded date {text!r} is impossible ({exc})", line=number) from None
    offset = moment.utcoffset()
    if offset is not None and abs(offset.total_seconds()) > MAX_OFFSET_S:
        raise ConnectorError(name, f"recorded date {text!r}: UTC offset beyond ±14 hours", line=number)
    return moment


def ecg_beats(recording: EcgRecording) -> tuple[np.ndarray, np.ndarray]:
    """Beat times (UTC µs) and the RR interval (ms) ending at each beat after the first.

    R-peaks come from neurokit2's ``ecg_clean`` then ``ecg_peaks`` (its default
    "neurokit" method: a QRS-slope detector), without artifact correction: the
    connector stores what the trace shows, and cleaning is signal processing's.
    """
    import neurokit2 as nk  # heavy import, only needed when an export has ECGs

    rate = recording.rate_hz
    if recording.microvolts.size < MIN_SECONDS * rate:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    cleaned = nk.ecg_clean(recording.microvolts, sampling_rate=rate)
    _signals, info = nk.ecg_peaks(cleaned, sampling_rate=rate)
    peaks = np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
    if peaks.size < 2:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    peak_us = recording.start_us + np.round(peaks * 1e6 / rate).astype(np.int64)
    rr_ms = np.diff(peaks) * 1000.0 / rate
    return peak_us[1:], rr_ms
