"""Every file of the hostile corpus gives its expected outcome through detection and reading.

Each case (``tests/hostile/corpus.py``) is written to a fresh folder, its
connector found by ``connectors.registry.detect`` (or taken by name, as
``--format`` does), and read to the end. A :class:`Fails` case must raise
``ConnectorError`` naming the file (and the line where the case says one);
a :class:`Reads` case must keep the expected samples and count the expected
rejections. No other exception may escape, and nothing may be read into
memory whole: the traced peak allocation of each case stays under 64 MB,
including the 200 MB single-line file.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors import ConnectorError, ReadContext, ReadReport, SampleBatch
from connectors.base import Item
from connectors.registry import detect, get_connector
from tests.hostile.corpus import CASES, Case, Fails, Reads
from tests.hostile.seeds import START

PEAK_LIMIT_BYTES = 64 << 20


def read_case(case: Case, path: Path, report: ReadReport) -> list[Item]:
    connector = get_connector(case.format) if case.format else detect(path)
    return list(connector.read(path, ReadContext(start=START, tz=case.tz), report))


def rejected(report: ReadReport, fragment: str) -> int:
    return sum(count for reason, count in report.rejected.items() if fragment in reason)


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    yield
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < PEAK_LIMIT_BYTES


def test_the_corpus_is_large_and_its_names_are_unique() -> None:
    assert len(CASES) >= 60
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: Case, tmp_path: Path, traced: None) -> None:
    path = case.write(tmp_path)
    report = ReadReport()
    if isinstance(case.expect, Fails):
        with pytest.raises(ConnectorError) as raised:
            read_case(case, path, report)
        message = str(raised.value)
        assert case.expect.says in message
        assert case.name in message, "the message names the file"
        if case.expect.line is not None:
            assert raised.value.line == case.expect.line, message
        return
    expect: Reads = case.expect
    items = read_case(case, path, report)
    samples = sum(len(i) for i in items if isinstance(i, SampleBatch))
    if expect.samples is None:
        assert samples > 0
    else:
        assert samples == expect.samples, dict(report.rejected)
    for fragment, count in expect.rejected.items():
        assert rejected(report, fragment) == count, (fragment, dict(report.rejected))
    if expect.check is not None:
        expect.check(items)
