"""What the fuzz tests and ``bench/fuzz.py`` share: mutations, and one guarded read.

A mutation is a list of edits applied to one file of a seed export
(:mod:`tests.hostile.seeds`): flip a byte, cut the file short, delete or
duplicate a slice, or splice in a token that has broken parsers before
(``nan``, ``1e308``, ``99999999999``, ``+2500``, a lone ``\\r``, a NUL, a
deep bracket nest). :func:`read_guarded` reads the result with one connector
and with detection, and returns how it ended; any exception other than
:class:`connectors.ConnectorError` is the caller's failure.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from fitdecode.utils import compute_crc

from connectors import ConnectorError, ReadContext, ReadReport
from connectors.registry import detect, get_connector
from tests.hostile.seeds import START, TZ

#: Tokens spliced into files: values and bytes that broke readers before.
TOKENS: tuple[bytes, ...] = (
    b"nan",
    b"NaN",
    b"inf",
    b"-inf",
    b"1e308",
    b"-1e308",
    b"1e999",
    b"99999999999",
    b"99999999999999999999999",
    b"0",
    b"-1",
    b"-0",
    b"",
    b"\r",
    b"\r\n",
    b"\n\n",
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xc3\x28",
    b"+2500",
    b"-2500",
    b"+14:01",
    b"2024-02-30",
    b"2024-03-31T02:30:00",
    b"0000-00-00",
    b"9999-12-31T23:59:59",
    b'"',
    b"'",
    b",",
    b";",
    b"[" * 64,
    b"{" * 64,
    b"]",
    b"}",
    b"null",
    b"true",
    b"<",
    b"<!ENTITY a 'b'>",
    b"&a;",
    b"PK\x03\x04",
    b"\x0e\x10",
    b".FIT",
    b"SQLite format 3\x00",
)
#: Peak Python/numpy allocation one small input may cause (traced with tracemalloc).
MEMORY_LIMIT_BYTES = 256 << 20


@dataclass(frozen=True)
class Edit:
    """One mutation: ``kind`` at a relative ``where`` (0..1) with ``token`` or ``length``."""

    kind: str  # "flip", "truncate", "delete", "duplicate", "insert", "replace"
    where: float
    length: int = 1
    token: bytes = b""


EDIT_KINDS = ("flip", "truncate", "delete", "duplicate", "insert", "replace")


def mutate(data: bytes, edits: Iterable[Edit]) -> bytes:
    """``data`` with each edit applied in turn (positions scale to the current length)."""
    out = bytearray(data)
    for edit in edits:
        at = min(int(edit.where * len(out)), len(out))
        if edit.kind == "flip" and out:
            at = min(at, len(out) - 1)
            out[at] ^= 1 << (edit.length % 8)
        elif edit.kind == "truncate":
            del out[at:]
        elif edit.kind == "delete":
            del out[at : at + edit.length]
        elif edit.kind == "duplicate":
            out[at:at] = out[at : at + edit.length]
        elif edit.kind == "insert":
            out[at:at] = edit.token
        elif edit.kind == "replace":
            out[at : at + max(len(edit.token), 1)] = edit.token
    return bytes(out)


def repair_fit(data: bytes) -> bytes:
    """A mutated FIT file with its data size and both CRCs made consistent again.

    Without this nearly every mutation fails the CRC check and the message
    decoder behind it is never reached.
    """
    if len(data) < 16 or data[8:12] != b".FIT" or data[0] not in (12, 14):
        return data
    out = bytearray(data)
    header = out[0]
    body = len(out) - header - 2
    if body < 0:
        return data
    out[4:8] = body.to_bytes(4, "little")
    if header == 14:
        out[12:14] = compute_crc(out, end=12).to_bytes(2, "little")
    out[-2:] = compute_crc(out, end=len(out) - 2).to_bytes(2, "little")
    return bytes(out)


@dataclass
class Outcome:
    """How one guarded read ended."""

    connector: str
    items: int = 0
    error: str | None = None  # a ConnectorError's message
    seconds: float = 0.0
    peak_bytes: int = 0


def read_guarded(connector_name: str, path: Path, *, also_detect: bool = True) -> Outcome:
    """Read ``path`` with the named connector (as ``--format`` would), then as detected.

    Returns the outcome of the explicit read; raises whatever a connector
    raised that is not a :class:`ConnectorError` (the bug being hunted).
    """
    outcome = Outcome(connector_name)
    started = time.perf_counter()
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        outcome.items, outcome.error = _read(connector_name, path)
        if also_detect:
            try:
                found = detect(path)
            except ConnectorError:
                found = None
            if found is not None and found.name != connector_name:
                _read(found.name, path, connector=found)
    finally:
        outcome.peak_bytes = tracemalloc.get_traced_memory()[1]
        if not tracing:
            tracemalloc.stop()
        outcome.seconds = time.perf_counter() - started
    return outcome


def _read(name: str, path: Path, connector: object | None = None) -> tuple[int, str | None]:
    reader = connector if connector is not None else get_connector(name)
    count = 0
    try:
        for item in reader.read(path, ReadContext(start=START, tz=TZ), ReadReport()):  # type: ignore[attr-defined]
            count += 1
            del item
    except ConnectorError as exc:
        if not str(exc).startswith(str(exc.file)) or not exc.file:
            raise AssertionError(f"ConnectorError without the file first: {exc}") from exc
        return count, str(exc)
    return count, None
