"""Line reading shared by the text connectors: every line ending, a length limit, numbering."""

from __future__ import annotations

import io

import pytest

from connectors import ConnectorError, ReadContext, ReadReport, detect
from connectors.base import NothingReadable, requires_data
from connectors.lines import CHUNK_BYTES, decode_line, numbered_lines


def lines(data: bytes, **options: int) -> list[tuple[int, bytes]]:
    return [(n, line) for n, line, _ in numbered_lines(io.BytesIO(data), "f.txt", **options)]


@pytest.mark.parametrize("end", [b"\n", b"\r\n", b"\r"])
def test_each_line_ending_ends_a_line(end: bytes) -> None:
    assert lines(b"a" + end + b"b" + end + end + b"c") == [(1, b"a"), (2, b"b"), (3, b""), (4, b"c")]


def test_mixed_endings_and_crlf_split_across_chunks_count_once() -> None:
    first = b"x" * (CHUNK_BYTES - 1) + b"\r"  # the \r ends one chunk, its \n starts the next
    data = first + b"\nsecond\rthird\r\nfourth\n"
    assert [n for n, _ in lines(data)] == [1, 2, 3, 4]
    assert lines(data)[1:] == [(2, b"second"), (3, b"third"), (4, b"fourth")]


def test_bytes_consumed_reach_the_file_size() -> None:
    data = b"1\r\n2\r\n3"
    *_, (_, _, done) = numbered_lines(io.BytesIO(data), "f.txt")
    assert done == len(data)


def test_a_line_over_the_limit_fails_naming_file_and_line_without_reading_on() -> None:
    class Endless(io.RawIOBase):
        """A stream of digits that never ends: reading it all would never return."""

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
            buffer[:] = b"8" * len(buffer)
            return len(buffer)

    with pytest.raises(ConnectorError) as raised:
        list(numbered_lines(io.BufferedReader(Endless()), "big.txt", max_line_bytes=1 << 20))
    assert raised.value.line == 1 and "big.txt" in str(raised.value)
    with pytest.raises(ConnectorError) as raised:
        lines(b"ok\n" + b"7" * 5000 + b"\n", max_line_bytes=4096)
    assert raised.value.line == 2


def test_utf16_and_nul_bytes_are_named() -> None:
    with pytest.raises(ConnectorError, match="UTF-16"):
        decode_line("x".encode("utf-16"), "f.csv", 1, first=True)
    with pytest.raises(ConnectorError, match="NUL byte"):
        decode_line("ab".encode("utf-16-le"), "f.csv", 1, first=True)
    assert decode_line(b"\xef\xbb\xbfok", "f.csv", 1, first=True) == "ok"


def test_requires_data_fails_an_input_that_gave_nothing_and_names_the_counts() -> None:
    class Empty:
        @requires_data
        def read(self, path, ctx, report):  # type: ignore[no-untyped-def]
            report.skip("steps", 3)
            yield from ()

    with pytest.raises(NothingReadable, match=r"f\.xml: nothing readable.*skipped: 3 steps"):
        list(Empty().read("f.xml", ReadContext(), ReadReport()))


def test_a_bundle_skips_an_empty_part_and_fails_only_when_every_part_is_empty(tmp_path) -> None:

    (tmp_path / "good.csv").write_text("timestamp,bpm\n2024-05-04T10:00:00Z,60\n")
    (tmp_path / "empty.csv").write_text("timestamp,bpm\n")
    report = ReadReport()
    bundle = detect(tmp_path)
    assert bundle.name == "bundle"
    assert sum(len(item) for item in bundle.read(tmp_path, ReadContext(), report)) == 1
    assert any(reason.startswith("empty.csv: nothing readable") for reason in report.skipped)
    (tmp_path / "good.csv").write_text("timestamp,bpm\n")
    with pytest.raises(NothingReadable, match="nothing readable"):
        list(detect(tmp_path).read(tmp_path, ReadContext(), ReadReport()))
