"""Times as vendor exports write them: fixed-layout strings, UTC offsets, local wall clock.

* :func:`parse_civil` reads many date-time strings of one fixed layout
  (``MM/DD/YY hh:mm:ss``, ``YYYY-MM-DDThh:mm:ss``, ...) at once with numpy,
  checking every field (a 30 February is refused, not rolled over). What
  follows the layout (a fraction, ``Z``, an offset) is returned per string and
  read by :func:`tail_parts`, which is cached because exports repeat a handful
  of tails millions of times.
* :func:`parse_offset` reads ``UTC+0900``, ``UTC+02:00``, ``+05:30``, ``Z``;
  an offset no zone uses (over 14 h, minutes not a quarter hour) is refused.
* :func:`localize` turns naive wall-clock times into UTC in an IANA zone.
  A wall-clock time inside a spring-forward gap does not exist and is flagged
  for rejection. One inside the repeated hour of a fall-back change is
  ambiguous; in a file written in time order the second pass shows as a step
  backwards, so samples from that step on take the later offset. Without such
  a step the first occurrence is taken, and the caller counts it.
* :func:`place_wall_clock` places one naive time, raising :class:`LocalTimeGap`
  when the zone skips it; :func:`possible_offset` refuses an aware time whose
  offset no zone uses.
* :func:`parse_local` reads ISO wall-clock times whose seconds may be missing
  (``2024-03-31T02:15``), and :func:`to_utc` places them in a zone named by the
  import (through :func:`localize`), for formats such as Polar Flow's 24/7 PPI.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

_EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_QUARTER_S = 900  # every zone's transitions fall on a quarter hour of local time
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_FRACTION = re.compile(r"^[.,](\d{1,9})")
MAX_OFFSET_S = 14 * 3600
#: Marks "no offset in the text" in the offset arrays of :func:`parse_instants`.
NO_OFFSET = np.iinfo(np.int64).min


@functools.lru_cache(maxsize=512)
def parse_offset(text: str) -> int:
    """Seconds east of UTC from ``UTC+0900``, ``UTC-05:00``, ``+0530``, ``Z`` or ``UTC``."""
    value = text.strip()
    if value.upper() in ("Z", "UTC", "GMT", "+00:00", "UTC+00:00"):
        return 0
    match = _OFFSET.match(value)
    if match is None:
        raise ValueError(f"UTC offset {text[:20]!r} is not like UTC+0900 or +02:00")
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if minutes >= 60 or minutes % 15:
        raise ValueError(f"UTC offset {text[:20]!r} has impossible minutes")
    seconds = hours * 3600 + minutes * 60
    if seconds > MAX_OFFSET_S:
        raise ValueError(f"UTC offset {text[:20]!r} is beyond ±14 hours")
    return -seconds if sign == "-" else seconds


def possible_offset(moment: dt.datetime) -> dt.datetime:
    """``moment`` unchanged; ValueError when its UTC offset is one no zone uses (over 14 h)."""
    offset = moment.utcoffset()
    if offset is not None and abs(offset.total_seconds()) > MAX_OFFSET_S:
        raise ValueError(f"UTC offset {offset} is beyond ±14 hours")
    return moment


class LocalTimeGap(ValueError):
    """A wall-clock time the zone skips (spring forward): no instant has it."""


def place_wall_clock(moment: dt.datetime, zone: ZoneInfo, name: str) -> dt.datetime:
    """``moment`` (naive) in ``zone``; :class:`LocalTimeGap` when the zone skips it."""
    aware = moment.replace(tzinfo=zone)
    if aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != moment:
        raise LocalTimeGap(f"local time {moment.isoformat()} does not exist in {name} (daylight-saving gap)")
    return aware


@dataclass(frozen=True)
class Layout:
    """A fixed date-time layout: ``Y``/``M``/``D``/``h``/``m``/``s`` are digits, the rest literal.

    ``YY`` years are 2000 + YY (the exports concerned start after 2008).
    """

    pattern: str

    @functools.cached_property
    def fields(self) -> dict[str, list[int]]:
        found: dict[str, list[int]] = {}
        for position, char in enumerate(self.pattern):
            if char in "YMDhms":
                found.setdefault(char, []).append(position)
        return found

    @functools.cached_property
    def literals(self) -> dict[int, int]:
        return {i: ord(c) for i, c in enumerate(self.pattern) if c not in "YMDhms"}


MDY = Layout("MM/DD/YY hh:mm:ss")  # Fitbit's Global Export Data
ISO = Layout("YYYY-MM-DDThh:mm:ss")
SPACED = Layout("YYYY-MM-DD hh:mm:ss")


def days_from_civil(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms")."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _days_in_month(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    lengths = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    return lengths[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)


def parse_civil(texts: list[str], layout: Layout) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Naive times (microseconds since 1970-01-01 wall clock), the text after the
    layout for each string, and a mask of the strings that parsed."""
    width = len(layout.pattern)
    n = len(texts)
    chars = np.zeros((n, width), np.uint8)
    heads = [t[:width] for t in texts]
    joined = "".join(heads)
    if len(joined) == n * width and joined.isascii():
        chars[:] = np.frombuffer(joined.encode("ascii"), np.uint8).reshape(n, width)
    else:
        for row, head in enumerate(heads):
            if len(head) == width and head.isascii():
                chars[row] = np.frombuffer(head.encode("ascii"), np.uint8)
    digits = chars.astype(np.int64) - ord("0")
    ok = np.ones(n, bool)
    for position, byte in layout.literals.items():
        ok &= chars[:, position] == byte
    values: dict[str, np.ndarray] = {}
    for name, positions in layout.fields.items():
        value = np.zeros(n, np.int64)
        for position in positions:
            ok &= (digits[:, position] >= 0) & (digits[:, position] <= 9)
            value = value * 10 + digits[:, position]
        values[name] = value
    year = values["Y"] + (2000 if len(layout.fields["Y"]) == 2 else 0)
    month, day = values["M"], values["D"]
    hour, minute, second = values["h"], values["m"], values["s"]
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (hour <= 23) & (minute <= 59)
    ok &= (second <= 59) & (year >= 1970) & (year <= 2200)
    ok &= day <= _days_in_month(year, month)
    seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    seconds[~ok] = 0
    return seconds * 1_000_000, [t[width:] for t in texts], ok


@functools.lru_cache(maxsize=1024)
def tail_parts(tail: str) -> tuple[int, int | None]:
    """(fraction in microseconds, UTC offset in seconds or None) from what follows
    a layout: ``''``, ``.000``, ``.123Z``, ``Z``, ``+02:00``, ``.5-0500``.
    Raises ValueError for anything else."""
    rest = tail.strip()
    fraction_us = 0
    match = _FRACTION.match(rest)
    if match:
        digits = match.group(1)
        fraction_us = int((digits + "000000")[:6])
        rest = rest[match.end() :]
    if not rest:
        return fraction_us, None
    return fraction_us, parse_offset(rest)


def parse_instants(
    texts: list[str], layout: Layout, *, require_offset: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times with optional fraction and offset: (µs, offset s or INT_MIN, ok).

    With an offset the µs are UTC; without, naive wall clock (offset INT_MIN).
    ``require_offset`` rejects strings without one.
    """
    us, tails, ok = parse_civil(texts, layout)
    offsets = np.full(len(texts), NO_OFFSET, np.int64)
    for row in np.flatnonzero(ok):
        try:
            fraction_us, offset = tail_parts(tails[row])
        except ValueError:
            ok[row] = False
            continue
        if offset is None:
            if require_offset:
                ok[row] = False
                continue
        else:
            offsets[row] = offset
            us[row] -= offset * 1_000_000
        us[row] += fraction_us
    return us, offsets, ok


@dataclass
class Localized:
    """Result of :func:`localize`."""

    utc_us: np.ndarray
    offset_s: np.ndarray
    in_gap: np.ndarray  # wall-clock times that do not exist (spring forward)
    ambiguous_unresolved: int  # repeated-hour times taken as the first occurrence
    folds_resolved: int  # repeated-hour times placed in the second pass by order


def localize(naive_us: np.ndarray, zone: ZoneInfo) -> Localized:
    """UTC instants for wall-clock times in ``zone``, in file order (see module docstring)."""
    naive_us = np.asarray(naive_us, np.int64)
    quarters = naive_us // (_QUARTER_S * 1_000_000)
    unique, inverse = np.unique(quarters, return_inverse=True)
    first = np.empty(unique.size, np.int64)
    second = np.empty(unique.size, np.int64)
    for i, quarter in enumerate(unique.tolist()):
        wall = _EPOCH_NAIVE + dt.timedelta(seconds=quarter * _QUARTER_S)
        first[i] = _offset_s(wall.replace(tzinfo=zone, fold=0))
        second[i] = _offset_s(wall.replace(tzinfo=zone, fold=1))
    off0, off1 = first[inverse], second[inverse]
    in_gap = off0 < off1
    ambiguous = off0 > off1
    offsets = off0.copy()
    resolved = unresolved = 0
    if ambiguous.any():
        index = np.flatnonzero(ambiguous)
        runs = np.split(index, np.flatnonzero(np.diff(index) > 1) + 1)
        for run in runs:
            steps = np.flatnonzero(np.diff(naive_us[run]) < 0)
            if steps.size:
                later = run[steps[0] + 1 :]
                offsets[later] = off1[later]
                resolved += later.size
            else:
                unresolved += run.size
    return Localized(naive_us - offsets * 1_000_000, offsets, in_gap, unresolved, resolved)


def _offset_s(moment: dt.datetime) -> int:
    offset = moment.utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def zone_or_none(name: str | None) -> ZoneInfo | None:
    """The IANA zone called ``name``, or None when it is empty or unknown."""
    if not name or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ValueError, KeyError, OSError):  # ZoneInfoNotFoundError is a KeyError
        return None


#: ``YYYY-MM-DDThh:mm`` with optional seconds and fraction, nothing after.
_WALL_CLOCK = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?")


@functools.lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ValueError when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def parse_local(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """ISO wall-clock times (``2024-03-31T02:15``, seconds and fraction optional).

    Returns microseconds of wall-clock time since 1970-01-01 (as if UTC) and a
    mask of the strings that parsed. A string with an offset or ``Z`` does
    not parse: these formats write none, so one would be a misread.
    """
    shaped = _wall_clock_shaped(texts)
    candidates = np.where(shaped, np.asarray(texts, dtype=object), "NaT").tolist()
    try:
        parsed = np.array(candidates, dtype="datetime64[us]")
    except ValueError:  # an impossible date (month 13): parse one by one
        parsed = np.array([_one(t) for t in candidates], dtype="datetime64[us]")
    ok = shaped & ~np.isnat(parsed)
    values = parsed.astype(np.int64)
    values[~ok] = 0
    return values, ok


def _wall_clock_shaped(texts: list[str]) -> np.ndarray:
    """Which strings are ``YYYY-MM-DDThh:mm[:ss[.f{1,6}]]`` and nothing else.

    numpy's parser also takes bare dates, years and (with a warning) offsets,
    which these formats never write. Checked on the strings' code points in
    bulk; anything that is not a list of plain strings is checked one by one.
    """
    array = np.asarray(texts)
    if array.dtype.kind != "U" or array.ndim != 1 or array.dtype.itemsize // 4 < 16:
        return np.array(
            [isinstance(t, str) and _WALL_CLOCK.fullmatch(t) is not None for t in texts], dtype=bool
        )
    width = array.dtype.itemsize // 4
    codes = array.view(np.uint32).reshape(len(texts), width)
    length = np.count_nonzero(codes, axis=1)
    position = np.arange(width)

    def char(index: int, symbol: str) -> np.ndarray:
        return codes[:, index] == ord(symbol) if index < width else np.zeros(len(texts), bool)

    ok = char(4, "-") & char(7, "-") & char(10, "T") & char(13, ":")
    ok &= (
        (length == 16)
        | ((length == 19) & char(16, ":"))
        | ((length >= 21) & (length <= 26) & char(16, ":") & char(19, "."))
    )
    digit = (codes >= ord("0")) & (codes <= ord("9"))
    separator = np.isin(position, (4, 7, 10, 13, 16, 19))
    inside = position[None, :] < length[:, None]
    ok &= (digit | ~inside | separator[None, :]).all(axis=1)
    return ok


def _one(text: str) -> np.datetime64:
    try:
        return np.datetime64(text, "us")
    except ValueError:
        return np.datetime64("NaT")


def to_utc(wall_us: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UTC microseconds, UTC offsets (s) and a mask of times that exist in ``tz``.

    ``wall_us`` must be in recording order (the repeated hour: see :func:`localize`).
    """
    placed = localize(np.asarray(wall_us, dtype=np.int64), zone(tz))
    return placed.utc_us, placed.offset_s, ~placed.in_gap
