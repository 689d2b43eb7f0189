"""Receiving an upload: the request body streamed to one file, under the upload limit.

The body is either the raw file or a ``multipart/form-data`` form whose part
``file`` holds it. Both are read chunk by chunk from the connection: multipart is
parsed here with ``python-multipart``'s streaming parser (Starlette's form parser
would first spool the whole body to a temporary file), and every byte received
counts against ``max_upload_bytes`` whatever the transfer encoding (chunked
included), so never more than the limit reaches the disk (issue 16, defect 7).
Writes run in a worker thread: the event loop never waits on the disk (defect 3).
"""

from __future__ import annotations

import errno
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from python_multipart.multipart import MultipartParser, parse_options_header

from service.core.http.problems import ProblemError

#: Disk errors that mean "no room": answered 507, not 500.
NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_MAX_FIELD_BYTES = 4096  # form fields other than the file are small (and ignored)


@dataclass
class Received:
    """What was stored: the file's name as the client gave it, and its size."""

    filename: str | None
    size: int


def too_large(limit: int) -> ProblemError:
    return ProblemError(413, "upload-too-large", f"the upload limit is {limit} bytes")


async def _limited(stream: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """The body's chunks, refused (413) as soon as more than ``limit`` bytes came in."""
    total = 0
    async for chunk in stream:
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        yield chunk


class _File:
    """The destination, written from a worker thread; created new, never through a link."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None
        self.size = 0

    async def write(self, data: bytes) -> None:
        if not data:
            return
        await anyio.to_thread.run_sync(self._write, data)

    def _write(self, data: bytes) -> None:
        if self.fd is None:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]
        self.size += len(data)

    async def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            await anyio.to_thread.run_sync(os.close, fd)


@dataclass
class _Form:
    """State of the multipart parse: which part we are in and what it said about itself."""

    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    disposition: bytes = b""
    in_file: bool = False
    file_seen: bool = False
    filename: str | None = None
    field_bytes: int = 0
    pending: list[bytes] = field(default_factory=list)


async def save(stream: AsyncIterator[bytes], content_type: str, target: Path, *, limit: int) -> Received:
    """Stream the upload into ``target`` (created, never overwritten); its name and size.

    422 when a multipart form has no ``file`` part; 413 past ``limit``; an ``OSError``
    from the disk propagates (see :data:`NO_SPACE`). The caller removes ``target`` when
    this raises.
    """
    out = _File(target)
    try:
        chunks = _limited(stream, limit)
        if not content_type.startswith("multipart/form-data"):
            async for chunk in chunks:
                await out.write(chunk)
            return Received(None, out.size)
        form = await _save_form(chunks, content_type, out)
        if not form.file_seen:
            raise ProblemError(
                422, "validation-error", "file: a multipart upload needs its file in a part named 'file'"
            )
        return Received(form.filename, out.size)
    finally:
        await out.close()


async def _save_form(chunks: AsyncIterator[bytes], content_type: str, out: _File) -> _Form:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise ProblemError(400, "bad-multipart", "the multipart form has no boundary")
    form = _Form()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        form.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        form.header_value += data[start:end]

    def on_header_end() -> None:
        if bytes(form.header_field).lower() == b"content-disposition":
            form.disposition = bytes(form.header_value)
        form.header_field.clear()
        form.header_value.clear()

    def on_headers_finished() -> None:
        _, params = parse_options_header(form.disposition)
        form.in_file = params.get(b"name") == b"file" and not form.file_seen
        if form.in_file:
            form.file_seen = True
            raw = params.get(b"filename")
            form.filename = raw.decode("utf-8", "replace") if raw else None
        form.disposition = b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if form.in_file:
            form.pending.append(bytes(data[start:end]))
        else:
            form.field_bytes += end - start
            if form.field_bytes > _MAX_FIELD_BYTES:
                raise ProblemError(413, "upload-too-large", "form fields besides 'file' are limited to 4 KiB")

    def on_part_end() -> None:
        form.in_file = False

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    async for chunk in chunks:
        try:
            parser.write(chunk)
        except ProblemError:
            raise
        except Exception as exc:  # python-multipart's errors on a malformed form
            raise ProblemError(400, "bad-multipart", f"malformed multipart form: {exc}") from None
        for data in form.pending:
            await out.write(data)
        form.pending.clear()
    parser.finalize()
    return form
