"""Text files line by line: every line ending, a length limit, and memory that does not grow.

Exports written on different systems end their lines with ``\\n`` (Unix),
``\\r\\n`` (Windows), a lone ``\\r`` (old Mac software, some loggers), or a mix.
:func:`numbered_lines` ends a line at any of them (as ``bytes.splitlines``
does). It reads in chunks and refuses a line longer than ``MAX_LINE_BYTES``
as soon as that many bytes have arrived without an ending, so a file that is
one 200 MB line fails in milliseconds naming the file and the line, instead
of being read whole into memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .archive import READ_ERRORS
from .base import ConnectorError

#: The longest line any reader accepts. Real export lines are under a few
#: kilobytes (an Apple ECG header line, a Samsung row with a JSON cell).
MAX_LINE_BYTES = 1 << 20
CHUNK_BYTES = 1 << 16


def numbered_lines(
    handle: IO[bytes], label: str | Path, *, first_line: int = 1, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes, int]]:
    """``(line number, line without its ending, bytes consumed so far)`` for each line.

    Blank lines are yielded too, so numbers match what an editor shows.
    Raises :class:`ConnectorError` naming ``label`` and the line when a line
    exceeds ``max_line_bytes``.
    """
    number = first_line
    pending = b""
    consumed = 0
    while True:
        chunk = read_chunk(handle, label, CHUNK_BYTES)
        eof = not chunk
        data = pending + chunk
        consumed += len(chunk)
        if eof:
            complete, pending = data, b""
        else:
            # A trailing \r may be the first half of \r\n: wait for the next chunk.
            held = data.endswith(b"\r")
            body = data[:-1] if held else data
            end = max(body.rfind(b"\n"), body.rfind(b"\r")) + 1
            complete, pending = body[:end], body[end:] + (b"\r" if held else b"")
        for line in complete.splitlines():
            if len(line) > max_line_bytes:
                raise _too_long(label, number, max_line_bytes)
            yield number, line, consumed - len(pending)
            number += 1
        if eof:
            return
        if len(pending) > max_line_bytes:
            raise _too_long(label, number, max_line_bytes)


def read_chunk(handle: IO[bytes], label: str | Path, size: int) -> bytes:
    """``handle.read(size)``, with a damaged zip member or disk read as a ConnectorError."""
    try:
        return handle.read(size)
    except READ_ERRORS as exc:
        raise ConnectorError(label, f"could not read the file: {exc}") from None


def _too_long(label: str | Path, number: int, limit: int) -> ConnectorError:
    return ConnectorError(
        label,
        f"line longer than {limit} bytes: not a text export (or its line endings are not recognised)",
        line=number,
    )


def decode_line(raw: bytes, label: str | Path, number: int, *, first: bool) -> str:
    """One line as text: strict UTF-8 (a byte-order mark allowed on the first line).

    A NUL byte is refused too: it is valid UTF-8, but text exports never hold
    one, and UTF-16 text read as UTF-8 is full of them.
    """
    try:
        text = raw.decode("utf-8-sig" if first else "utf-8")
    except UnicodeDecodeError as exc:
        raise ConnectorError(label, _not_utf8(raw, exc), line=number) from None
    if "\x00" in text:
        raise ConnectorError(
            label, "NUL byte in a text line (UTF-16 text or binary data, not a UTF-8 export)", line=number
        )
    return text


def _not_utf8(raw: bytes, exc: UnicodeDecodeError) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:64]:
        return "not UTF-8 text (it looks like UTF-16: save the file as UTF-8)"
    return f"not UTF-8 text ({exc.reason} at byte {exc.start} of the line)"
