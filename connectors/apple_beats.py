"""Beat times of Apple Health HRV records: parsing and placing them in time.

An ``HKQuantityTypeIdentifierHeartRateVariabilitySDNN`` record carries the
beats its SDNN was computed from, as ``InstantaneousBeatsPerMinute`` children
with a rounded ``bpm`` and a ``time``. That ``time`` is only a local wall-clock
time of day, formatted in the phone's locale: ``6:14:48.94 PM``,
``20:14:07.68``, ``08:34:05,10``, ``3:10:02,11 AM`` (with U+202F or a plain
space before the marker) and, in East Asian locales, a marker in front.

Placing the beats needs the record: its ``startDate`` gives the day and the UTC
offset. The list may cross midnight, and around daylight-saving changes the
beat times have been seen one hour off the ``startDate`` offset; both are
handled here. RR intervals come from consecutive beat times (their centisecond
precision), never from the rounded bpm.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MS_PER_DAY = 86_400_000
MS_PER_HOUR = 3_600_000
#: How far before ``startDate`` / after ``endDate`` the first beat may lie.
#: HealthKit writes the beats of the measurement window itself, so a couple of
#: minutes is generous, and small against the one-hour daylight-saving slip.
SLACK_MS = 120_000
#: The largest whole-hour disagreement corrected (a daylight-saving change).
MAX_HOUR_SHIFT = 1

_TIME = re.compile(
    r"^\s*(?P<pre>[^\d\s]*)\s*"
    r"(?P<h>\d{1,2})[:.](?P<m>\d{2})[:.](?P<s>\d{2})(?:[.,](?P<f>\d{1,3}))?"
    r"\s*(?P<post>[^\d]*?)\s*$"
)
# The spellings nearly every beat has (``6:14:48.94\u202fPM``, ``20:14:07.68``,
# ``08:34:05,10``): read without the general pattern's alternatives, same result.
_COMMON_TIME = re.compile(r"([0-9]{1,2}):([0-9]{2}):([0-9]{2})[.,]([0-9]{2})(?:[ \u202f]([AP]M))?")
_COMMON_HALF = {None: "", "AM": "am", "PM": "pm"}
# Markers lower-cased with dots and spaces removed. Chinese, Japanese and
# Korean locales put theirs in front of the time.
_AM = frozenset({"am", "上午", "午前", "오전"})
_PM = frozenset({"pm", "下午", "午後", "오후"})


class BeatTimeError(ValueError):
    """A beat list that cannot be read or placed in time."""


def parse_beat_time(text: str) -> int:
    """Milliseconds after local midnight for one locale-formatted ``time``.

    >>> parse_beat_time("6:14:48.94\\u202fPM")
    65688940
    """
    common = _COMMON_TIME.fullmatch(text)
    if common is not None:
        hours, minutes, seconds, centis, half = common.groups()
        hour, minute, second = int(hours), int(minutes), int(seconds)
        millis = int(centis) * 10
        marker = _COMMON_HALF[half]
    else:
        match = _TIME.match(text)
        if match is None:
            raise BeatTimeError(f"beat time {text!r} is not a time of day")
        hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"])
        fraction = match["f"] or ""
        millis = int(fraction.ljust(3, "0")) if fraction else 0
        marker = (match["pre"] + match["post"]).lower().replace(".", "").replace(" ", "")
    if marker:
        if not 1 <= hour <= 12:
            raise BeatTimeError(f"beat time {text!r}: hour {hour} on a 12-hour clock")
        if marker in _AM:
            hour = 0 if hour == 12 else hour
        elif marker in _PM:
            hour = 12 if hour == 12 else hour + 12
        else:
            raise BeatTimeError(f"beat time {text!r}: unknown day-half marker {marker!r}")
    if hour > 23 or minute > 59 or second > 59:
        raise BeatTimeError(f"beat time {text!r} is out of range")
    return ((hour * 60 + minute) * 60 + second) * 1000 + millis


@dataclass(frozen=True, slots=True)
class PlacedBeats:
    """Beats of one record, relative to its ``startDate``.

    ``offsets_ms[i]`` is beat ``i`` in milliseconds after ``startDate`` (it may
    be slightly negative); ``hour_shift`` is the whole-hour slip that was
    removed to make the beat times agree with ``startDate`` (0 when none).
    """

    offsets_ms: np.ndarray
    hour_shift: int

    def rr_ms(self) -> np.ndarray:
        """Interval ending at each beat after the first, in ms."""
        return np.diff(self.offsets_ms).astype(np.float64)


def place_beats(times_of_day_ms: Sequence[int], start_of_day_ms: int, duration_ms: int) -> PlacedBeats:
    """Place wall-clock beat times against the record's ``startDate``.

    ``start_of_day_ms`` is the ``startDate``'s local time of day and
    ``duration_ms`` the record's length (``endDate`` - ``startDate``).
    A list running past midnight is unwrapped; the first beat is then matched
    to ``startDate`` modulo a day, and a whole-hour disagreement of up to
    ``MAX_HOUR_SHIFT`` hours is taken as a daylight-saving slip and removed.
    """
    if len(times_of_day_ms) == 0:
        raise BeatTimeError("empty beat list")
    times = np.asarray(times_of_day_ms, dtype=np.int64)
    # Crossing midnight shows as a backwards jump of many hours.
    wraps = np.concatenate(([0], np.cumsum(np.diff(times) < -MS_PER_DAY // 2)))
    times = times + wraps * MS_PER_DAY
    first = int(times[0]) - start_of_day_ms
    first = (first + MS_PER_DAY // 2) % MS_PER_DAY - MS_PER_DAY // 2  # into [-12 h, 12 h)
    window = min(duration_ms, MS_PER_HOUR // 4) + SLACK_MS
    shift = round((first - window // 2 + SLACK_MS // 2) / MS_PER_HOUR)
    residual = first - shift * MS_PER_HOUR
    if abs(shift) > MAX_HOUR_SHIFT or not -SLACK_MS <= residual <= window:
        raise BeatTimeError(
            f"beat times start {first / 1000:+.0f} s from the record's startDate, "
            "not within the record nor a whole daylight-saving hour away"
        )
    offsets = times - times[0] + residual
    return PlacedBeats(offsets_ms=offsets, hour_shift=shift)
