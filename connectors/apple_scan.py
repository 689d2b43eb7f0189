"""Byte-level scanning of an Apple Health ``export.xml``: element boundaries without parse trees.

An export is one root element holding millions of top-level children, most of
which Vagus never stores. :class:`ElementScanner` walks the raw UTF-8 bytes a
chunk at a time and yields each top-level child's tag name, its raw ``type``
attribute and its byte range, so the caller hands only the records it keeps to
an XML parser. The common shapes take a handful of ``bytes.find`` calls (C
speed); anything unusual inside an element (comments, CDATA, processing
instructions, a nested element of the same name, an odd closing tag, a quote
or ``>`` that could sit inside an attribute value) switches that element to a
careful token-by-token walk. Comments, CDATA sections and processing
instructions between top-level elements are skipped whole, so a ``<Record``
inside a comment never counts.

What is checked: the structure (every element closed in order, the root
closed, nothing but comments and processing instructions after it). What is
not: the well-formedness of attribute syntax and text inside elements the
caller skips (lxml would refuse, say, an undefined entity in a step count; the
scanner does not look). The records the caller keeps are parsed in full.

:func:`read_prolog` accepts the prologs real exports have (an XML declaration
in UTF-8, comments, an internal DTD of element declarations and ``CDATA``
attribute declarations) and returns ``None`` for anything else, so the caller
can give that document to a full parser instead: other encodings, entity
declarations, parameter entities, attribute types whose values a parser would
normalise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

#: Bytes read from the stream at a time.
CHUNK_BYTES = 1 << 20
#: A top-level element (or comment, or tag) larger than this is refused. lxml
#: without ``huge_tree`` refuses text and attribute values over 10 MB, and real
#: exports keep workout routes in separate GPX files, so no export comes close.
MAX_ELEMENT_BYTES = 64 << 20

_NAME = re.compile(rb"[^\s/>=<!?\"']+")
_START_TAG = re.compile(rb"""<([^\s/>=<!?"']+)((?:\s+[^\s=/>"'<]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(/?)>""")
_ATTRIBUTE = re.compile(rb"""([^\s=/>"'<]+)\s*=\s*(?:"([^"<]*)"|'([^'<]*)')""")
_END_TAG = re.compile(rb"</([^\s>]+)\s*>")
_SPACE = b" \t\r\n"
#: Bytes that can follow a tag name.
_AFTER_NAME = frozenset(b" \t\r\n/>")
#: Bytes that can come before the quote opening an attribute value.
_BEFORE_VALUE = frozenset(b"= \t\r\n")


def _plain(buffer: bytes) -> bool:
    """No single quote, comment, CDATA or processing instruction anywhere in ``buffer``."""
    # One-byte searches first: memchr, many times faster than a two-byte search.
    find = buffer.find
    return find(b"'") < 0 and (find(b"!") < 0 or find(b"<!") < 0) and (find(b"?") < 0 or find(b"<?") < 0)


class ScanError(Exception):
    """The bytes are not well-formed XML, found at ``line`` (1-based)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class NeedMore(Exception):
    """The prolog does not end within the bytes given."""


# -- the prolog ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Prolog:
    """Where the root start tag ends, and whether the root is empty (``<HealthData/>``)."""

    root_end: int
    root_empty: bool


_XML_DECL_ENCODING = re.compile(rb"""\sencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")
_DOCTYPE_HEAD = re.compile(
    rb"""<!DOCTYPE\s+[^\s\[>]+(?:\s+(?:SYSTEM\s*(?:"[^"]*"|'[^']*')"""
    rb"""|PUBLIC\s*(?:"[^"]*"|'[^']*')\s*(?:"[^"]*"|'[^']*')))?\s*"""
)
_SUBSET_TOKEN = re.compile(
    rb"""\s+|<!--.*?-->|<\?.*?\?>|<!ELEMENT\s[^>"']*>"""
    rb"""|(?P<attlist><!ATTLIST\s(?:[^"'>]|"[^"]*"|'[^']*')*>)"""
    rb"""|<!NOTATION\s(?:[^"'>]|"[^"]*"|'[^']*')*>""",
    re.DOTALL,
)
# Only CDATA attributes without defaults: a parser would normalise the values
# of other types or add defaults, and the scanner does neither.
_PLAIN_ATTLIST = re.compile(rb"<!ATTLIST\s+[^\s>]+(?:\s+[^\s>]+\s+CDATA\s+#(?:REQUIRED|IMPLIED))*\s*>")
_DOCTYPE_CLOSE = re.compile(rb"\s*>")


def read_prolog(head: bytes, root: bytes) -> Prolog | None:
    """The prolog of ``head`` up to the ``root`` start tag, or None if the scanner does not handle it.

    Raises :class:`NeedMore` when ``head`` ends inside the prolog.
    """
    pos = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    if head.startswith((b"\xfe\xff", b"\xff\xfe", b"\x00")):
        return None  # UTF-16 or UTF-32
    if head.startswith(b"<?xml", pos) and head[pos + 5 : pos + 6] in (b" ", b"\t", b"\r", b"\n", b"?"):
        end = head.find(b"?>", pos)
        if end < 0:
            raise NeedMore
        encoding = _XML_DECL_ENCODING.search(head, pos, end)
        if encoding is not None and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
            return None
        pos = end + 2
    pos = _skip_misc(head, pos)
    if head.startswith(b"<!DOCTYPE", pos):
        after = _skip_doctype(head, pos)
        if after is None:
            return None
        pos = _skip_misc(head, after)
    tag = _START_TAG.match(head, pos)
    if tag is None:
        if head.find(b">", pos) < 0:
            raise NeedMore
        return None
    if tag.group(1) != root or b"xmlns" in tag.group(2):
        return None
    return Prolog(tag.end(), tag.group(3) == b"/")


def _skip_misc(data: bytes, pos: int) -> int:
    """Past whitespace, comments and processing instructions."""
    while True:
        while pos < len(data) and data[pos] in _SPACE:
            pos += 1
        if pos >= len(data):
            raise NeedMore
        if data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos + 4)
            if end < 0:
                raise NeedMore
            pos = end + 3
        elif data.startswith(b"<?", pos):
            end = data.find(b"?>", pos + 2)
            if end < 0:
                raise NeedMore
            pos = end + 2
        else:
            return pos


def _skip_doctype(head: bytes, pos: int) -> int | None:
    """Past the document type declaration, or None if it holds what the scanner leaves alone."""
    match = _DOCTYPE_HEAD.match(head, pos)
    if match is None or match.end() >= len(head):
        if head.find(b">", pos) < 0:
            raise NeedMore
        return None
    pos = match.end()
    if head[pos] == ord("["):
        pos += 1
        while True:
            if pos >= len(head):
                raise NeedMore
            if head[pos] == ord("]"):
                pos += 1
                break
            token = _SUBSET_TOKEN.match(head, pos)
            if token is None:  # an entity declaration, a parameter entity, or cut off
                if head.find(b">", pos) < 0:
                    raise NeedMore
                return None
            if token.group("attlist") and not _PLAIN_ATTLIST.fullmatch(token.group()):
                return None
            pos = token.end()
    close = _DOCTYPE_CLOSE.match(head, pos)
    if close is None:
        if pos >= len(head) or head[pos:].isspace():
            raise NeedMore
        return None
    return close.end()


# -- attributes ---------------------------------------------------------------


def raw_attribute(tag: bytes, name: bytes) -> bytes | None:
    """The raw (undecoded) value of attribute ``name`` in a well-formed start tag.

    A single-quoted value's double quotes come back as ``&quot;`` so that the
    value can be decoded as if it were double-quoted.
    """
    tag_name = _NAME.match(tag, 1)
    for key, double, single in _ATTRIBUTE.findall(tag, tag_name.end() if tag_name else 1):
        if key == name:
            return double if not single else single.replace(b'"', b"&quot;")
    return None


# -- the elements -------------------------------------------------------------


class ElementScanner:
    """The top-level children of the root element, read from ``read`` a chunk at a time.

    Iterating yields the ``Record`` elements whose raw ``type`` attribute
    ``keep`` accepts, as ``(type, buffer, start, tag_end, end)``: the raw
    value of ``type``, and the record's bytes as ``buffer[start:end]``, its
    start tag being ``buffer[start:tag_end + 1]``. ``buffer`` is valid until
    the next item is asked for. ``keep`` is asked once per distinct raw type
    (it raises ``ValueError`` for a value that is not well-formed). Other
    records are counted in :attr:`skipped_types` by raw type (``None`` for
    none), other elements in :attr:`skipped_tags` by name. Memory stays within
    a chunk plus the largest element (twice over while an element spans chunks).
    """

    def __init__(
        self,
        read: Callable[[int], bytes],
        rest: bytes,
        root: bytes,
        keep: Callable[[bytes | None], bool],
        *,
        root_empty: bool = False,
        first_line: int = 1,
        on_chunk: Callable[[], None] | None = None,
    ) -> None:
        self._read = read
        self._buffer = rest
        self._root = root
        self._keep = keep
        self._keeps: dict[bytes | None, bool] = {}
        self._root_empty = root_empty
        self._on_chunk = on_chunk or (lambda: None)
        self._closers: dict[bytes, bytes] = {}
        #: Newlines before ``self._buffer``, plus one: the line where it starts.
        self._line = first_line
        self.skipped_types: dict[bytes | None, int] = {}
        self.skipped_tags: dict[bytes, int] = {}

    def line_at(self, buffer: bytes, pos: int) -> int:
        """The 1-based line of ``buffer[pos]``, for the buffer last yielded."""
        return self._line + buffer.count(b"\n", 0, pos)

    def _more(self, buffer: bytes, keep_from: int) -> bytes:
        """``buffer[keep_from:]`` followed by the next chunk; the document must go on."""
        kept = buffer[keep_from:]
        if len(kept) > MAX_ELEMENT_BYTES:
            raise ScanError(
                f"an element, comment or tag over {MAX_ELEMENT_BYTES >> 20} MB "
                "(malformed, or not an Apple Health export)",
                self.line_at(buffer, keep_from),
            )
        self._line += buffer.count(b"\n", 0, keep_from)
        chunk = self._read(max(CHUNK_BYTES, len(kept)))  # grows with a long element
        self._on_chunk()
        if not chunk:
            if kept[:1] == b"<" and kept[1:2] not in (b"!", b"?", b"/"):
                self._careful_end(kept, 0, at_end=True)  # says what is wrong, if it can
            raise ScanError(
                f"the document ends before </{self._root.decode()}> (truncated?)",
                self._line + kept.count(b"\n"),
            )
        return kept + chunk

    def _kept(self, kind: bytes | None, buffer: bytes, lt: int) -> bool:
        """Whether records of raw type ``kind`` are kept (asked of ``keep`` once per type)."""
        try:
            wanted = self._keeps[kind] = self._keep(kind)
        except ValueError as exc:
            raise ScanError(f"type attribute: {exc}", self.line_at(buffer, lt)) from exc
        return wanted

    def __iter__(self) -> Iterator[tuple[bytes | None, bytes, int, int, int]]:
        buffer, pos = self._buffer, 0
        self._buffer = b""
        if self._root_empty:
            self._trailer(buffer, pos)
            return
        keeps, types, tags = self._keeps, self.skipped_types, self.skipped_tags
        find, count, startswith = buffer.find, buffer.count, buffer.startswith
        plain = _plain(buffer)
        while True:
            lt = find(b"<", pos)
            if lt < 0 or lt + 1 >= len(buffer):
                buffer, pos = self._more(buffer, len(buffer) if lt < 0 else lt), 0
                find, count, startswith = buffer.find, buffer.count, buffer.startswith
                plain = _plain(buffer)
                continue
            if startswith(b'<Record type="', lt):
                # The hot path: a record as Apple writes it.
                gt = find(b">", lt)
                end = -1
                if gt > 0 and find(b"<", lt + 1, gt) < 0:
                    if plain:
                        # No "'" in the buffer, so values are double-quoted and
                        # hold no '"'. A '"' before the first ">" (or "/>") that
                        # does not follow "=" closes a value: the tag ends there.
                        last = gt - 1 if buffer[gt - 1] == 0x2F else gt
                        ok = buffer[last - 1] == 0x22 and buffer[last - 2] not in _BEFORE_VALUE
                    else:  # the quotes before ">" must pair up
                        ok = not count(b'"', lt, gt) & 1 and find(b"'", lt, gt) < 0
                    if not ok:
                        pass
                    elif buffer[gt - 1] == 0x2F:  # "/>"
                        end = gt + 1
                    else:
                        close = find(b"</Record", gt)
                        if (
                            0 <= close < len(buffer) - 8
                            and buffer[close + 8] == 0x3E
                            and (plain or (find(b"<!", gt, close) < 0 and find(b"<?", gt, close) < 0))
                            and (
                                find(b"<Record", gt, close) < 0
                                or not self._nested(buffer, b"Record", gt, close)
                            )
                        ):
                            end = close + 9
                    if end > 0:
                        kind = buffer[lt + 14 : find(b'"', lt + 14)]
                        wanted = keeps.get(kind)
                        if wanted is None:
                            wanted = self._kept(kind, buffer, lt)
                        if wanted:
                            yield kind, buffer, lt, gt, end
                        else:
                            types[kind] = types.get(kind, 0) + 1
                        pos = end
                        continue
            second = buffer[lt + 1]
            if second == 0x2F:  # "</": the root's end tag
                close_tag = _END_TAG.match(buffer, lt)
                if close_tag is None:
                    if buffer.find(b">", lt) < 0:
                        buffer, pos = self._more(buffer, lt), 0
                        find, count, startswith = buffer.find, buffer.count, buffer.startswith
                        plain = _plain(buffer)
                        continue
                    raise ScanError("malformed end tag", self.line_at(buffer, lt))
                if close_tag.group(1) != self._root:
                    raise ScanError(
                        f"end tag </{close_tag.group(1).decode(errors='replace')}> "
                        f"where </{self._root.decode()}> was expected",
                        self.line_at(buffer, lt),
                    )
                self._trailer(buffer, close_tag.end())
                return
            if second == 0x21 or second == 0x3F:  # "<!" or "<?"
                end_at = self._markup_end(buffer, lt)
            else:
                found = self._element(buffer, lt)
                end_at = None
                if found is not None:
                    name, raw_type, gt, end_at = found
                    if name != b"Record":
                        tags[name] = tags.get(name, 0) + 1
                    else:
                        wanted = keeps.get(raw_type)
                        if wanted is None:
                            wanted = self._kept(raw_type, buffer, lt)
                        if wanted:
                            yield raw_type, buffer, lt, gt, end_at
                        else:
                            types[raw_type] = types.get(raw_type, 0) + 1
            if end_at is None:
                buffer, pos = self._more(buffer, lt), 0
                find, count, startswith = buffer.find, buffer.count, buffer.startswith
                plain = _plain(buffer)
            else:
                pos = end_at

    def _markup_end(self, buffer: bytes, lt: int) -> int | None:
        """Past a comment, CDATA section or processing instruction at ``lt``."""
        for opener, closer in ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>")):
            if buffer.startswith(opener, lt):
                end = buffer.find(closer, lt + len(opener))
                return None if end < 0 else end + len(closer)
        if len(buffer) - lt < 9:  # maybe a cut-off "<![CDATA["
            return None
        raise ScanError("unexpected markup declaration inside the document", self.line_at(buffer, lt))

    def _element(self, buffer: bytes, lt: int) -> tuple[bytes, bytes | None, int, int] | None:
        """The element at ``lt``: name, raw type, start tag end and end; None if cut off."""
        find = buffer.find
        gt = find(b">", lt)
        if gt < 0:
            return None
        if (
            buffer.startswith(b'<Record type="', lt)
            or buffer.startswith(b"<Record", lt)
            and buffer[lt + 7] in _AFTER_NAME
        ):  # how Apple writes every record
            name = b"Record"
        else:
            match = _NAME.match(buffer, lt + 1)
            if match is None:
                raise ScanError("a '<' that starts no tag", self.line_at(buffer, lt))
            name = match.group()
        if buffer.count(b'"', lt, gt) & 1 or find(b"'", lt, gt) >= 0 or find(b"<", lt + 1, gt) >= 0:
            # The first ">" may sit inside a quoted value: match the tag properly.
            tag = _START_TAG.match(buffer, lt)
            if tag is None:
                return None  # cut off here, or malformed (refused once the size cap is hit)
            gt = tag.end() - 1
        kind = None
        if name == b"Record":
            if buffer[lt + 7] == 0x20 and buffer.startswith(b'type="', lt + 8):
                kind = buffer[lt + 14 : find(b'"', lt + 14, gt)]
            else:
                kind = raw_attribute(buffer[lt : gt + 1], b"type")
        if buffer[gt - 1] == 0x2F:  # "/>"
            return name, kind, gt, gt + 1
        closer = self._closers.get(name)
        if closer is None:
            closer = self._closers[name] = b"</" + name
        close = find(closer, gt)
        if close < 0:
            return None
        after = close + len(closer)
        if after >= len(buffer):
            return None
        if (
            buffer[after] != 0x3E
            or find(b"<!", gt, close) >= 0
            or find(b"<?", gt, close) >= 0
            or self._nested(buffer, name, gt, close)
        ):
            end = self._careful_end(buffer, lt)
            return None if end is None else (name, kind, gt, end)
        return name, kind, gt, after + 1

    @staticmethod
    def _nested(buffer: bytes, name: bytes, start: int, stop: int) -> bool:
        """Whether an element named ``name`` starts between ``start`` and ``stop``."""
        opener = b"<" + name
        at = buffer.find(opener, start, stop)
        while at >= 0:
            if buffer[at + len(opener)] in _AFTER_NAME:
                return True
            at = buffer.find(opener, at + 1, stop)
        return False

    def _careful_end(self, buffer: bytes, lt: int, at_end: bool = False) -> int | None:
        """The end of the element at ``lt``, token by token; None if the buffer ends first.

        ``at_end``: the buffer holds the rest of the document, so a start tag
        that does not parse is malformed rather than cut off.
        """
        open_names: list[bytes] = []
        pos = lt
        while True:
            at = buffer.find(b"<", pos)
            if at < 0 or at + 1 >= len(buffer):
                return None
            if buffer[at + 1] in (0x21, 0x3F):  # "<!" or "<?"
                end = self._markup_end(buffer, at)
                if end is None:
                    return None
                pos = end
                continue
            if buffer[at + 1] == 0x2F:  # "</"
                close = _END_TAG.match(buffer, at)
                if close is None:
                    if buffer.find(b">", at) < 0:
                        return None
                    raise ScanError("malformed end tag", self.line_at(buffer, at))
                if close.group(1) != open_names[-1]:
                    raise ScanError(
                        f"end tag </{close.group(1).decode(errors='replace')}> "
                        f"where </{open_names[-1].decode(errors='replace')}> "
                        "was expected",
                        self.line_at(buffer, at),
                    )
                open_names.pop()
                pos = close.end()
                if not open_names:
                    return pos
                continue
            tag = _START_TAG.match(buffer, at)
            if tag is None:
                if at_end:
                    raise ScanError("malformed start tag", self.line_at(buffer, at))
                return None  # cut off, or malformed (refused once the size cap is hit)
            if tag.group(3) != b"/":
                open_names.append(tag.group(1))
            pos = tag.end()

    def _trailer(self, buffer: bytes, pos: int) -> None:
        """After the root: only whitespace, comments and processing instructions, to the end."""
        while True:
            while pos < len(buffer) and buffer[pos] in _SPACE:
                pos += 1
            if pos < len(buffer):
                end = None
                if buffer.startswith((b"<!--", b"<?"), pos):
                    end = self._markup_end(buffer, pos)
                elif not b"<!--".startswith(buffer[pos:]):  # not a cut-off "<!-"
                    raise ScanError(f"content after </{self._root.decode()}>", self.line_at(buffer, pos))
                if end is not None:
                    pos = end
                    continue
            self._line += buffer.count(b"\n", 0, pos)
            rest = buffer[pos:]
            if len(rest) > MAX_ELEMENT_BYTES:
                raise ScanError("an unterminated comment after the root", self._line)
            chunk = self._read(CHUNK_BYTES)
            self._on_chunk()
            if not chunk:
                if rest:
                    raise ScanError(f"unterminated markup after </{self._root.decode()}>", self._line)
                return
            buffer, pos = rest + chunk, 0
