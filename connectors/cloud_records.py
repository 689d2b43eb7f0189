"""The records a cloud sync fetched, as a file: one NDJSON line per vendor record.

A sync (``service/sync``) writes what it fetched to the person's upload folder and
imports that file like any other, so the ledger, deduplication, recompute and
webhooks are those of a file import. Each line is::

    {"provider": "oura", "type": "sleep", "record": {...the vendor's record, as sent...}}

``type`` is the vendor endpoint the record came from; the provider's pure mapping
module (:mod:`connectors.cloud_oura`, :mod:`connectors.cloud_whoop`) turns it into
samples and episodes. A line that is not such an object, or a record that its
mapping refuses, is rejected and counted with its line number; nothing raises
for a bad record.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import cloud_fitbit, cloud_oura, cloud_whoop
from .base import ConnectorError, Item, Metric, ReadContext, ReadReport, SourceInfo
from .export_tree import open_export
from .fitbit import SOURCE as FITBIT
from .localtime import zone_or_none
from .oura import RING, Mapped, RecordProblem, Sample
from .tabular import FileProblems
from .vendor import batches
from .whoop import SOURCE as WHOOP

Line = tuple[int, str, Mapping[str, Any]]
Mapper = Callable[[str, Mapping[str, Any]], Mapped]


class CloudRecords:
    """Reads a sync's NDJSON file of one provider's records (see the module docstring)."""

    def __init__(self, provider: str) -> None:
        if provider not in PROVIDERS:
            raise ValueError(f"no record mapping for provider {provider!r}")
        self.provider = provider
        self.name = f"{provider}_cloud"
        self.description = f"records fetched from the {provider} cloud API by a sync"

    def sniff(self, path: Path, head: bytes) -> bool:
        first = head.split(b"\n", 1)[0]
        return first.startswith(b"{") and f'"provider": "{self.provider}"'.encode() in first

    def read(self, path: Path, ctx: ReadContext, report: ReadReport) -> Iterator[Item]:
        zone = zone_or_none(ctx.tz)
        if zone is None:
            raise ConnectorError(ctx.tz, "unknown time zone given for the import")
        with open_export(path) as files:
            if len(files) != 1:
                raise ConnectorError(path, "a cloud sync import is one NDJSON file")
            file = files[0]
            report.bytes_total = file.size
            problems = FileProblems(file, "line")
            lines = list(self._lines(file, problems))
            mapper = PROVIDERS[self.provider](lines, zone)
            samples: list[Sample] = []
            for number, data_type, record in lines:
                try:
                    mapped = mapper(data_type, record)
                except RecordProblem as problem:
                    problems.add(f"{self.provider} {data_type}: {problem}", number)
                    continue
                for reason, count in mapped.rejected.items():
                    problems.add(reason, number, count)
                for reason, count in mapped.skipped.items():
                    report.skip(reason, count)
                for what, count in mapped.notes.items():
                    report.note(what, count)
                yield from mapped.episodes
                samples.extend(mapped.samples)
            yield from _batches(SOURCES[self.provider], samples, problems)
            problems.flush(report)
            report.progress(file.size)

    def _lines(self, file, problems: FileProblems) -> Iterator[Line]:
        with file.open() as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    line = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    problems.add("line is not JSON", number)
                    continue
                if not (
                    isinstance(line, Mapping)
                    and isinstance(line.get("record"), Mapping)
                    and isinstance(line.get("type"), str)
                ):
                    problems.add("line is not an object with type and record", number)
                    continue
                if line.get("provider") != self.provider:
                    problems.add(f"record of another provider ({line.get('provider')!r})", number)
                    continue
                yield number, line["type"], line["record"]


def _oura(lines: list[Line], zone: dt.tzinfo) -> Mapper:
    return lambda data_type, record: cloud_oura.map_record(data_type, record, zone)


def _fitbit(lines: list[Line], zone: dt.tzinfo) -> Mapper:
    return lambda data_type, record: cloud_fitbit.map_record(data_type, record, zone)


def _whoop(lines: list[Line], zone: dt.tzinfo) -> Mapper:
    sleep_ends = cloud_whoop.wakes((t, r) for _, t, r in lines)
    return lambda data_type, record: cloud_whoop.map_record(data_type, record, sleep_ends)


#: Per provider: a factory of its mapper (given all lines, for cross-record lookups).
PROVIDERS: dict[str, Callable[[list[Line], dt.tzinfo], Mapper]] = {
    cloud_oura.PROVIDER: _oura,
    cloud_whoop.PROVIDER: _whoop,
    cloud_fitbit.PROVIDER: _fitbit,
}
SOURCES: dict[str, SourceInfo] = {
    cloud_oura.PROVIDER: RING,
    cloud_whoop.PROVIDER: WHOOP,
    cloud_fitbit.PROVIDER: FITBIT,
}
CONTEXT_TAGS: dict[str, str] = {cloud_oura.PROVIDER: cloud_oura.CONTEXT_TAG}


def _batches(source: SourceInfo, samples: list[Sample], problems: FileProblems) -> Iterator[Item]:
    """Samples grouped by metric, offset and context, bounded and sorted (``vendor.batches``)."""
    groups: dict[tuple[Metric, int | None, str | None], list[Sample]] = {}
    for sample in samples:
        groups.setdefault((sample.metric, sample.utc_offset_s, sample.context), []).append(sample)
    tag = CONTEXT_TAGS.get(source.key.split(":", 1)[0])
    for (metric, offset, context), group in groups.items():
        ts = np.fromiter((s.ts_us for s in group), np.int64, len(group))
        values = np.fromiter((s.value for s in group), np.float64, len(group))
        offsets = None if offset is None else np.full(len(group), offset)
        tags = {tag: context} if context and tag else None
        yield from batches(source, metric, ts, values, offsets, problems, tags=tags)
