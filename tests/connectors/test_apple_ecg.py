"""Apple Watch ECG CSV files: header shapes, locale decimals, R-peaks to RR."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from connectors.apple_ecg import ecg_beats, parse_ecg
from connectors.base import ConnectorError
from tests.support.generators.apple import ECG_RATE_HZ, ecg_signal

HEADER = [
    "Name,Alex Example",
    'Date of Birth,"2 Feb 1990"',
    "Recorded Date,2024-03-30 10:15:00 +0100",
    "Classification,Sinus Rhythm",
    "Symptoms,",
    "Software Version,2",
    'Device,"Watch6,2"',
    "Sample Rate,512 hertz",
    "",
    "Lead,Lead I",
    "Unit,{unit}",
    "",
]


def ecg_text(
    values: np.ndarray, *, comma: bool = False, unit: str = "µV", header: list[str] | None = None
) -> str:
    lines = [line.replace("{unit}", unit) for line in (header or HEADER)]
    if comma:
        body = [f'"{v:.3f}"'.replace(".", ",") for v in values]
    else:
        body = [f"{v:.3f}" for v in values]
    return "\n".join(lines + body) + "\n"


def beats_s(count: int = 30) -> np.ndarray:
    rng = np.random.default_rng(4)
    beats = 0.6 + np.concatenate(([0.0], np.cumsum(rng.uniform(0.7, 1.1, count))))
    return beats[beats < 29.4]


@pytest.mark.parametrize("comma", [False, True])
def test_header_and_values(comma: bool) -> None:
    trace = ecg_signal(beats_s())
    recording = parse_ecg(ecg_text(trace, comma=comma), "ecg.csv")
    assert recording.rate_hz == ECG_RATE_HZ
    assert recording.hardware == "Watch6,2"
    assert recording.utc_offset_s == 3600
    start = dt.datetime(2024, 3, 30, 9, 15, tzinfo=dt.UTC)
    assert recording.start_us == int(start.timestamp()) * 1_000_000
    assert np.allclose(recording.microvolts, np.round(trace, 3))


def test_millivolts_are_converted() -> None:
    trace = ecg_signal(beats_s()) / 1000.0
    recording = parse_ecg(ecg_text(trace, unit="mV"), "ecg.csv")
    assert np.allclose(recording.microvolts, np.round(trace, 3) * 1000.0)


def test_translated_header_keys() -> None:
    german = [
        "Name,Alex Beispiel",
        "Aufnahmedatum,2024-03-30 10:15:00 +0100",
        "Abtastrate,512 Hertz",
        "Ableitung,Ableitung I",
        "Einheit,µV",
        "",
    ]
    recording = parse_ecg(ecg_text(ecg_signal(beats_s()), comma=True, header=german), "ekg.csv")
    assert recording.rate_hz == 512 and recording.microvolts.size == 512 * 30


def test_rr_from_r_peaks_matches_the_beats() -> None:
    beats = beats_s()
    recording = parse_ecg(ecg_text(ecg_signal(beats)), "ecg.csv")
    beat_us, rr_ms = ecg_beats(recording)
    assert rr_ms.size == beats.size - 1
    assert np.max(np.abs(rr_ms - np.diff(beats) * 1000)) < 2 * 1000 / ECG_RATE_HZ
    assert np.max(np.abs((beat_us - recording.start_us) / 1000 - beats[1:] * 1000)) < 4


def test_missing_rate_is_an_error() -> None:
    header = [line for line in HEADER if not line.startswith("Sample Rate")]
    with pytest.raises(ConnectorError, match="sample rate"):
        parse_ecg(ecg_text(np.zeros(10), header=header), "ecg.csv")


def test_text_among_values_names_the_line() -> None:
    text = ecg_text(np.zeros(5)) + "oops\n"
    with pytest.raises(ConnectorError) as caught:
        parse_ecg(text, "ecg.csv")
    assert caught.value.line == len(HEADER) + 6


def test_too_short_recording_gives_no_beats() -> None:
    recording = parse_ecg(ecg_text(np.zeros(512)), "ecg.csv")
    beat_us, rr_ms = ecg_beats(recording)
    assert beat_us.size == 0 and rr_ms.size == 0
