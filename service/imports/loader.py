"""The COPY loader: a connector's samples and episodes into PostgreSQL, fast and idempotent.

Samples are buffered as numpy arrays and written in batches of about 50k rows
with binary ``COPY`` into a temporary staging table, then moved with
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``: the row count of that insert
is what was new, the rest were duplicates. The caller owns the transaction, so a
file that fails midway leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import numpy as np

from connectors import Episode, SampleBatch, SourceInfo
from connectors.base import METRICS, not_a_number, to_epoch_us
from service.core.db.types import Conn, returned

BATCH_ROWS = 50_000
#: Samples outside this span are refused: they come from a wrong clock or a misread field.
EARLIEST_TS = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(days=2)

#: PostgreSQL's binary timestamptz counts microseconds from 2000-01-01 UTC.
_PG_EPOCH_OFFSET_US = 946_684_800_000_000
_METRIC_CODE = {name: code for code, name in enumerate(METRICS, start=1)}
# One staged row in COPY BINARY layout: field count, then (length, value) per column.
_ROW = np.dtype(
    [
        ("fields", ">i2"),
        ("source_len", ">i4"),
        ("source_id", ">i4"),
        ("metric_len", ">i4"),
        ("metric", ">i2"),
        ("ts_len", ">i4"),
        ("ts", ">i8"),
        ("value_len", ">i4"),
        ("value", ">f8"),
        ("context_len", ">i4"),
        ("context", ">i2"),
    ]
)
#: ``SampleBatch.tags["motion_context"]`` as stored in ``observation.context``;
#: -1 travels through staging as "none" and lands as NULL.
MOTION_CONTEXT = {"not_set": 0, "sedentary": 1, "active": 2}
NO_CONTEXT = -1
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def encode_copy_binary(
    source_id: np.ndarray, metric: np.ndarray, ts_us: np.ndarray, value: np.ndarray, context: np.ndarray
) -> bytes:
    """Rows for ``stage_observation`` in PostgreSQL's binary COPY format, without a Python loop."""
    rows = np.empty(ts_us.shape[0], dtype=_ROW)
    rows["fields"] = 5
    rows["source_len"], rows["metric_len"], rows["ts_len"], rows["value_len"] = 4, 2, 8, 8
    rows["context_len"] = 2
    rows["context"] = context
    rows["source_id"] = source_id
    rows["metric"] = metric
    rows["ts"] = ts_us - _PG_EPOCH_OFFSET_US
    rows["value"] = value
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


class Loader:
    """Buffers samples and episodes for one import and writes them in batches."""

    def __init__(self, conn: Conn, person_id: str, import_id: int) -> None:
        self.conn = conn
        self.person_id = person_id
        self.import_id = import_id
        self.sources: dict[SourceInfo, int] = {}
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.buffered = 0
        self.episodes: list[tuple[int, str, dt.datetime, dt.datetime]] = []
        self.staged = 0
        self.inserted = 0
        self.invalid: Counter[str] = Counter()
        self.latest_allowed_us = to_epoch_us(dt.datetime.now(dt.UTC) + FUTURE_SLACK)
        conn.execute("""
            CREATE TEMP TABLE stage_observation (
                source_id integer, metric_code smallint, ts timestamptz,
                value double precision, context smallint
            ) ON COMMIT DROP""")
        conn.execute("""
            CREATE TEMP TABLE stage_episode (
                source_id integer, kind text, starts_at timestamptz, ends_at timestamptz
            ) ON COMMIT DROP""")

    def source_id(self, source: SourceInfo, utc_offset_s: int | None) -> int:
        known = self.sources.get(source)
        if known is not None:
            return known
        row = returned(
            self.conn.execute(
                """
            INSERT INTO source (person_id, key, name, kind, device, utc_offset_s)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (person_id, key) DO UPDATE
               SET name = EXCLUDED.name,
                   device = coalesce(EXCLUDED.device, source.device),
                   utc_offset_s = coalesce(EXCLUDED.utc_offset_s, source.utc_offset_s)
            RETURNING id""",
                (self.person_id, source.key, source.name, source.kind, source.device, utc_offset_s),
            ).fetchone()
        )
        self.sources[source] = row["id"]
        return row["id"]

    def add_samples(self, batch: SampleBatch) -> None:
        if not len(batch):
            return
        ts, value = batch.ts, batch.value
        ok = np.isfinite(value)
        if not_finite := int(ok.size - np.count_nonzero(ok)):
            self.invalid[not_a_number(batch.metric)] += not_finite
        in_span = (ts >= to_epoch_us(EARLIEST_TS)) & (ts <= self.latest_allowed_us)
        self.invalid["timestamp before 1990 or in the future"] += int(np.count_nonzero(ok & ~in_span))
        ok &= in_span
        if not ok.all():
            ts, value = ts[ok], value[ok]
        if not ts.size:
            return
        source = np.full(ts.size, self.source_id(batch.source, batch.utc_offset_s), np.int32)
        metric = np.full(ts.size, _METRIC_CODE[batch.metric], np.int16)
        motion = MOTION_CONTEXT.get((batch.tags or {}).get("motion_context", ""), NO_CONTEXT)
        context = np.full(ts.size, motion, np.int16)
        self.parts.append((source, metric, ts, value, context))
        self.buffered += ts.size
        if self.buffered >= BATCH_ROWS:
            self.flush_samples()

    def add_episode(self, episode: Episode) -> None:
        source_id = self.source_id(episode.source, None)
        self.episodes.append((source_id, episode.kind, episode.start, episode.end))
        if len(self.episodes) >= BATCH_ROWS:
            self.flush_episodes()

    def flush_samples(self) -> None:
        if not self.parts:
            return
        columns = [np.concatenate(column) for column in zip(*self.parts, strict=True)]
        self.parts, self.buffered = [], 0
        with self.conn.cursor() as cur:
            with cur.copy("COPY stage_observation FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(encode_copy_binary(*columns))
            cur.execute(
                """
                INSERT INTO observation (person_id, metric, source_id, ts, value, import_id,
                                         context)
                SELECT %s, (%s::metric[])[metric_code], source_id, ts, value, %s,
                       nullif(context, -1)
                FROM stage_observation
                ON CONFLICT DO NOTHING""",
                (self.person_id, list(METRICS), self.import_id),
            )
            self.inserted += cur.rowcount
            cur.execute("TRUNCATE stage_observation")
        self.staged += columns[0].size

    def flush_episodes(self) -> None:
        if not self.episodes:
            return
        with self.conn.cursor() as cur:
            with cur.copy("COPY stage_episode FROM STDIN") as copy:
                for row in self.episodes:
                    copy.write_row(row)
            cur.execute(
                """
                INSERT INTO sleep_episode (person_id, source_id, starts_at, ends_at, stage, import_id)
                SELECT %(person)s, source_id, starts_at, ends_at, kind, %(import)s
                FROM stage_episode WHERE kind <> 'mindful'
                ON CONFLICT DO NOTHING""",
                {"person": self.person_id, "import": self.import_id},
            )
            self.inserted += cur.rowcount
            cur.execute(
                """
                INSERT INTO rest_episode (person_id, source_id, starts_at, ends_at, import_id)
                SELECT %(person)s, source_id, starts_at, ends_at, %(import)s
                FROM stage_episode WHERE kind = 'mindful'
                ON CONFLICT DO NOTHING""",
                {"person": self.person_id, "import": self.import_id},
            )
            self.inserted += cur.rowcount
            cur.execute("TRUNCATE stage_episode")
        self.staged += len(self.episodes)
        self.episodes = []

    def finish(self) -> None:
        self.flush_samples()
        self.flush_episodes()

    @property
    def pending(self) -> int:
        return self.buffered + len(self.episodes)
