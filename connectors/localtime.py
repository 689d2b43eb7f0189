"""Wall-clock times without an offset, placed in the person's zone.

Some exports (Polar Flow's 24/7 PPI) write local times with no offset. They
are read in the zone of :class:`ReadContext` (the person's IANA zone), in bulk:
the zone is asked once per quarter hour of wall-clock time that occurs (every
zone's transitions fall on a quarter hour), not once per sample.

Two hours a year need care:

* the repeated hour when clocks go back: a time in it is ambiguous. Samples
  are in recording order, so a time in that hour that comes *after* a later
  wall-clock time in the sequence is the second pass (``fold=1``);
* the skipped hour when clocks go forward: a time in it never happened on that
  clock. It is refused (``exists`` is False) and counted by the caller.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

_QUARTER_US = 900 * 1_000_000
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)
#: ``YYYY-MM-DDThh:mm`` with optional seconds and fraction, nothing after.
_WALL_CLOCK = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?")


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
        return np.array([isinstance(t, str) and _WALL_CLOCK.fullmatch(t) is not None
                         for t in texts], dtype=bool)
    width = array.dtype.itemsize // 4
    codes = array.view(np.uint32).reshape(len(texts), width)
    length = np.count_nonzero(codes, axis=1)
    position = np.arange(width)

    def char(index: int, symbol: str) -> np.ndarray:
        return codes[:, index] == ord(symbol) if index < width else np.zeros(len(texts), bool)

    ok = char(4, "-") & char(7, "-") & char(10, "T") & char(13, ":")
    ok &= (length == 16) | ((length == 19) & char(16, ":")) | (
        (length >= 21) & (length <= 26) & char(16, ":") & char(19, "."))
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

    ``wall_us`` must be in recording order (see the module docstring on the
    repeated hour).
    """
    zoneinfo = zone(tz)
    wall_us = np.asarray(wall_us, dtype=np.int64)
    if wall_us.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=bool)
    quarters, inverse = np.unique(wall_us // _QUARTER_US, return_inverse=True)
    first = np.empty(quarters.size, dtype=np.int64)  # offset with fold=0
    second = np.empty(quarters.size, dtype=np.int64)  # offset with fold=1
    exists = np.empty(quarters.size, dtype=bool)
    for index, quarter in enumerate(quarters.tolist()):
        wall = _NAIVE_EPOCH + dt.timedelta(microseconds=quarter * _QUARTER_US)
        early = wall.replace(tzinfo=zoneinfo, fold=0)
        late = wall.replace(tzinfo=zoneinfo, fold=1)
        first[index] = int(early.utcoffset().total_seconds())  # type: ignore[union-attr]
        second[index] = int(late.utcoffset().total_seconds())  # type: ignore[union-attr]
        back = early.astimezone(dt.UTC).astimezone(zoneinfo).replace(tzinfo=None)
        exists[index] = back == wall
    offset = first[inverse]
    ambiguous = (first != second)[inverse] & exists[inverse]
    if ambiguous.any():
        # The second pass through the repeated hour: a wall time before
        # one already seen earlier in the sequence.
        seen = np.maximum.accumulate(wall_us)
        earlier_max = np.concatenate(([np.iinfo(np.int64).min], seen[:-1]))
        second_pass = ambiguous & (wall_us < earlier_max)
        offset = np.where(second_pass, second[inverse], offset)
    utc = wall_us - offset * 1_000_000
    return utc, offset, exists[inverse]
