"""Streaming the records of a JSON file one at a time, whatever its size.

Vendor JSON exports are one big array of records (Fitbit's daily files, an
Oura API dump), or an object whose keys hold such arrays (``{"data": [...],
"next_token": null}``, ``{"sleep": [...], "readiness": [...]}``). Loading a
multi-gigabyte array whole would need many times its size in memory, so this
module walks the outer structure itself and hands each *element* to the
standard library's C decoder (``JSONDecoder.raw_decode``): memory is one read
chunk plus the largest single record.

A file that ends inside a record, or holds a syntax error, stops with a
:class:`ConnectorError` naming the file, the line and the record number.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any, Literal

from .base import ConnectorError
from .export_tree import ExportFile

CHUNK_CHARS = 1 << 20
#: A single record larger than this is refused (real records are at most a few
#: hundred KB: an Oura sleep period with its 5-minute series).
MAX_RECORD_CHARS = 64 << 20
_SPACE = re.compile(r"[ \t\n\r]*")
#: What follows an array element: a comma or the closing bracket, with spaces.
_AFTER_ELEMENT = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")

Event = tuple[Literal["item", "value"], str | None, Any]


class _Cursor:
    """A sliding text window over the file, decoded incrementally (strict UTF-8)."""

    def __init__(self, file: ExportFile, handle: Any) -> None:
        self.file = file
        self.handle = handle
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.json = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self.line = 1  # line number of buf[0]
        self.eof = False
        self.records = 0

    def fill(self) -> bool:
        """Append the next chunk; False at end of file."""
        if self.eof:
            return False
        data = self.handle.read(CHUNK_CHARS)
        self.eof = not data
        try:
            text = self.decoder.decode(data, final=self.eof)
        except UnicodeDecodeError as exc:
            raise ConnectorError(
                self.file.label, f"not UTF-8 text ({exc.reason})", line=self.line + self.buf.count("\n")
            ) from None
        self.line += self.buf.count("\n", 0, self.pos)
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        return bool(text) or not self.eof

    def fail(self, problem: str, at: int | None = None) -> ConnectorError:
        at = self.pos if at is None else at
        return ConnectorError(
            self.file.label,
            problem,
            line=self.line + self.buf.count("\n", 0, at),
            record=f"record {self.records + 1}" if self.records else None,
        )

    def peek(self) -> str:
        """The next non-space character ('' at end of file), without consuming it."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def expect(self, char: str) -> None:
        found = self.peek()
        if found != char:
            raise self.fail(
                "truncated JSON: the file ends early"
                if not found
                else f"malformed JSON: expected {char!r}, found {found!r}"
            )
        self.pos += 1

    def value(self) -> Any:
        try:  # the common case: a whole value at the cursor, inside the buffer
            obj, end = self.json.raw_decode(self.buf, self.pos)
            if end < len(self.buf) or self.eof or isinstance(obj, (dict, list, str)):
                self.pos = end
                return obj
        except json.JSONDecodeError:
            pass
        self.peek()
        while True:
            try:
                obj, end = self.json.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buf) - self.pos > MAX_RECORD_CHARS:
                    raise self.fail(
                        f"malformed JSON or a record over {MAX_RECORD_CHARS} characters: {exc.msg}", exc.pos
                    ) from None
                if self.fill():
                    continue
                raise self.fail(f"truncated or malformed JSON: {exc.msg}", exc.pos) from None
            if end == len(self.buf) and not self.eof and not isinstance(obj, (dict, list, str)):
                self.fill()  # a number or literal may continue in the next chunk
                continue
            self.pos = end
            return obj


def iter_json(file: ExportFile) -> Iterator[Event]:
    """Events of a JSON file: ``("item", key, element)`` for each element of the
    top-level array (key None) or of an array under a top-level key, and
    ``("value", key, value)`` for other top-level members."""
    with file.open() as handle:
        cursor = _Cursor(file, handle)
        first = cursor.peek()
        if first == "":
            raise ConnectorError(file.label, "empty file")
        if first == "[":
            yield from _array(cursor, None)
        elif first == "{":
            cursor.pos += 1
            if cursor.peek() == "}":
                return
            while True:
                key = cursor.value()
                if not isinstance(key, str):
                    raise cursor.fail("malformed JSON: object key is not a string")
                cursor.expect(":")
                if cursor.peek() == "[":
                    yield from _array(cursor, key)
                else:
                    yield "value", key, cursor.value()
                following = cursor.peek()
                if following == "}":
                    break
                cursor.expect(",")
        else:
            raise cursor.fail("not a JSON array or object")


def _array(cursor: _Cursor, key: str | None) -> Iterator[Event]:
    cursor.expect("[")
    if cursor.peek() == "]":
        cursor.pos += 1
        return
    while True:
        element = cursor.value()
        cursor.records += 1
        yield "item", key, element
        after = _AFTER_ELEMENT.match(cursor.buf, cursor.pos)
        if after is not None:  # fast path: the separator is already in the buffer
            cursor.pos = after.end()
            if after.group(1) == "]":
                return
            continue
        following = cursor.peek()
        if following == "]":
            cursor.pos += 1
            return
        cursor.expect(",")


def items(file: ExportFile) -> Iterator[Any]:
    """Elements of the file's top-level array (or of its arrays under keys)."""
    for kind, _key, value in iter_json(file):
        if kind == "item":
            yield value
