"""Beat times of Apple HRV records: every locale variant, midnight, daylight saving."""

from __future__ import annotations

import numpy as np
import pytest

from connectors.apple_beats import (
    MS_PER_DAY,
    MS_PER_HOUR,
    BeatTimeError,
    parse_beat_time,
    place_beats,
)
from tests.support.generators.apple import BEAT_TIME_VARIANTS, _beat_time


def hms(hour: int, minute: int, second: int, millis: int = 0) -> int:
    return ((hour * 60 + minute) * 60 + second) * 1000 + millis


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6:14:48.94\u202fPM", hms(18, 14, 48, 940)),  # en_US, iOS 17+: narrow no-break space
        ("6:14:48.94 PM", hms(18, 14, 48, 940)),  # en_US, plain space
        ("20:14:07.68", hms(20, 14, 7, 680)),  # en_GB and others
        ("08:34:05,10", hms(8, 34, 5, 100)),  # de_DE, fr_FR: decimal comma
        ("3:10:02,11 AM", hms(3, 10, 2, 110)),  # 12-hour clock with a decimal comma
        ("3:10:02,11\u202fAM", hms(3, 10, 2, 110)),
        ("12:00:00.50 AM", hms(0, 0, 0, 500)),  # 12 AM is midnight
        ("12:30:00.00 PM", hms(12, 30, 0)),  # 12 PM is noon
        ("11:59:59.99 p.m.", hms(23, 59, 59, 990)),
        ("下午6:14:48.94", hms(18, 14, 48, 940)),  # zh: marker in front
        ("0:00:01", hms(0, 0, 1)),  # no fraction
    ],
)
def test_locale_variants(text: str, expected: int) -> None:
    assert parse_beat_time(text) == expected


@pytest.mark.parametrize(
    "text", ["", "18:14", "25:00:00.00", "13:00:00.00 PM", "6:14:48.94 XM", "6:61:00.00", "abc"]
)
def test_unreadable_times_raise(text: str) -> None:
    with pytest.raises(BeatTimeError):
        parse_beat_time(text)


@pytest.mark.parametrize("variant", BEAT_TIME_VARIANTS)
def test_generator_variants_round_trip(variant: str) -> None:
    rng = np.random.default_rng(7)
    for ms in rng.integers(0, MS_PER_DAY // 10, 200) * 10:  # centisecond precision
        assert parse_beat_time(_beat_time(int(ms), variant)) == ms


def test_rr_from_centisecond_beat_times_not_bpm() -> None:
    times = ["7:46:18.86 AM", "7:46:19.73 AM", "7:46:20.71 AM"]
    placed = place_beats(
        [parse_beat_time(t) for t in times], start_of_day_ms=hms(7, 46, 18), duration_ms=60_000
    )
    assert placed.hour_shift == 0
    assert placed.offsets_ms.tolist() == [860, 1730, 2710]
    assert placed.rr_ms().tolist() == [870.0, 980.0]


def test_list_crossing_midnight() -> None:
    times = ["11:59:58.50 PM", "11:59:59.40 PM", "12:00:00.30 AM", "12:00:01.25 AM"]
    placed = place_beats(
        [parse_beat_time(t) for t in times], start_of_day_ms=hms(23, 59, 58), duration_ms=60_000
    )
    assert placed.rr_ms().tolist() == [900.0, 900.0, 950.0]
    assert placed.offsets_ms[0] == 500
    assert placed.hour_shift == 0


def test_list_starting_after_midnight_of_record_day() -> None:
    # startDate 23:59:59, first beat already past midnight.
    placed = place_beats(
        [hms(0, 0, 0, 400), hms(0, 0, 1, 300)], start_of_day_ms=hms(23, 59, 59), duration_ms=60_000
    )
    assert placed.offsets_ms.tolist() == [1400, 2300]


@pytest.mark.parametrize("shift", [-1, 1])
def test_daylight_saving_hour_is_detected_and_removed(shift: int) -> None:
    start = hms(5, 10, 0)
    beats = [start + shift * MS_PER_HOUR + 1500 + 900 * k for k in range(5)]
    placed = place_beats(beats, start_of_day_ms=start, duration_ms=60_000)
    assert placed.hour_shift == shift
    assert placed.offsets_ms.tolist() == [1500 + 900 * k for k in range(5)]


def test_disagreement_that_is_not_a_whole_hour_is_refused() -> None:
    start = hms(5, 10, 0)
    with pytest.raises(BeatTimeError):
        place_beats(
            [start + 25 * 60_000, start + 25 * 60_000 + 900], start_of_day_ms=start, duration_ms=60_000
        )
    with pytest.raises(BeatTimeError):  # three hours off is a wrong zone, not DST
        place_beats([start + 3 * MS_PER_HOUR], start_of_day_ms=start, duration_ms=60_000)


def test_empty_list_is_refused() -> None:
    with pytest.raises(BeatTimeError):
        place_beats([], start_of_day_ms=0, duration_ms=60_000)
