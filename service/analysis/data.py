"""A person's samples for a time range, loaded once, with sources ranked by priority.

Two sources may hold the same instant (a chest strap and a watch); reads pick by
a per-person priority: the source's own ``priority`` when set, otherwise by kind
(chest strap > ECG > watch > ring > phone > app > unknown).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from service.core.db.types import Conn
from service.observations import repository as observations
from service.observations.repository import Series
from signal_processing.rr import CleanedRR, clean_rr

KIND_RANK = {"chest_strap": 0, "ecg": 1, "watch": 2, "ring": 3, "phone": 4, "app": 5, "unknown": 6}
#: Beats just before a window matter: the first interval of a window starts before it.
MARGIN = dt.timedelta(seconds=30)


def source_rank(source: dict[str, Any]) -> int:
    """Smaller is preferred. Kinds are spaced by 10 so an override can sit between them."""
    if source.get("priority") is not None:
        return int(source["priority"])
    return 10 * KIND_RANK.get(source["kind"], KIND_RANK["unknown"])


@dataclass
class PersonData:
    """Everything the windows of one range need, loaded in a few queries."""

    sources: dict[int, dict[str, Any]]
    rr: Series
    heart_rate: Series
    device_sdnn: Series
    device_rmssd: Series
    _cleaned: dict[int, CleanedRR] = field(default_factory=dict)
    _split: dict[int, list[tuple[int, Series]]] = field(default_factory=dict)

    def by_source(self, series: Series) -> list[tuple[int, Series]]:
        """``series`` split per source (it is ordered by source), best source first."""
        key = id(series)
        if key not in self._split:
            ids, first = np.unique(series.source_id, return_index=True)
            bounds = list(first) + [len(series)]
            parts = [(int(sid), series.select(slice(bounds[k], bounds[k + 1]))) for k, sid in enumerate(ids)]
            self._split[key] = sorted(parts, key=lambda part: (source_rank(self.sources[part[0]]), part[0]))
        return self._split[key]

    def cleaned(self, source_id: int) -> CleanedRR:
        """The source's RR, cleaned once per load (times in Unix seconds)."""
        if source_id not in self._cleaned:
            own = dict(self.by_source(self.rr))[source_id]
            self._cleaned[source_id] = clean_rr(own.value, own.ts_us / 1e6)
        return self._cleaned[source_id]

    def describe(self, source_id: int) -> dict[str, Any]:
        source = self.sources[source_id]
        return {"id": source_id, "name": source["name"], "kind": source["kind"]}


def load(conn: Conn, person_id: str, start: dt.datetime, end: dt.datetime) -> PersonData:
    """The person's samples in ``[start, end)``."""
    return load_ranges(conn, person_id, [(start, end)])


def load_ranges(conn: Conn, person_id: str, ranges: list[tuple[dt.datetime, dt.datetime]]) -> PersonData:
    """The person's samples in the union of ``ranges``, in one query: every window of a
    session, its control days, nights and mornings read once."""
    series = observations.read_series(
        conn,
        person_id=person_id,
        metrics=("rr_interval", "heart_rate", "hrv_sdnn", "hrv_rmssd"),
        ranges=[(a - MARGIN, b) for a, b in ranges],
    )
    return PersonData(
        sources=observations.sources(conn, person_id),
        rr=series["rr_interval"],
        heart_rate=series["heart_rate"],
        device_sdnn=series["hrv_sdnn"],
        device_rmssd=series["hrv_rmssd"],
    )
