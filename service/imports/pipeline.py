"""Loading a connector's output into PostgreSQL: fast, idempotent, all or nothing.

Samples are buffered as numpy arrays and written in batches of about 50k rows
with binary ``COPY`` into a temporary staging table, then moved with
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``: the row count of that insert
is what was new, the rest were duplicates. Every batch of one import goes in
inside one transaction that commits at the end, so a file that fails midway
leaves nothing behind. Progress goes to the import row on a separate
autocommit connection, so it is visible while the import runs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import psycopg
from psycopg_pool import ConnectionPool

from connectors import (
    ConnectorError,
    Episode,
    ReadContext,
    ReadReport,
    SampleBatch,
    SourceInfo,
)
from connectors.base import METRICS, Connector, to_epoch_us
from connectors.registry import detect, get_connector

from service.core.db import rls
from service.imports import repository as import_repo

log = logging.getLogger(__name__)

BATCH_ROWS = 50_000
PROGRESS_EVERY_S = 1.0
#: Samples outside this span are refused: they come from a wrong clock or a misread field.
EARLIEST_TS = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
FUTURE_SLACK = dt.timedelta(days=2)

#: PostgreSQL's binary timestamptz counts microseconds from 2000-01-01 UTC.
_PG_EPOCH_OFFSET_US = 946_684_800_000_000
_METRIC_CODE = {name: code for code, name in enumerate(METRICS, start=1)}
# One staged row in COPY BINARY layout: field count, then (length, value) per column.
_ROW = np.dtype([
    ("fields", ">i2"),
    ("source_len", ">i4"), ("source_id", ">i4"),
    ("metric_len", ">i4"), ("metric", ">i2"),
    ("ts_len", ">i4"), ("ts", ">i8"),
    ("value_len", ">i4"), ("value", ">f8"),
    ("context_len", ">i4"), ("context", ">i2"),
])
#: ``SampleBatch.tags["motion_context"]`` as stored in ``observation.context``;
#: -1 travels through staging as "none" and lands as NULL.
MOTION_CONTEXT = {"not_set": 0, "sedentary": 1, "active": 2}
NO_CONTEXT = -1
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


@dataclass
class ImportOutcome:
    import_id: int
    status: str
    read: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_reasons: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def sha256_of(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file or, for a folder, of its files in name order."""
    digest = hashlib.sha256()
    size = 0
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    return digest.hexdigest(), size


def encode_copy_binary(source_id: np.ndarray, metric: np.ndarray, ts_us: np.ndarray,
                       value: np.ndarray, context: np.ndarray) -> bytes:
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


class _Loader:
    """Buffers samples and episodes for one import and writes them in batches."""

    def __init__(self, conn: psycopg.Connection, person_id: str, import_id: int) -> None:
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
        row = self.conn.execute("""
            INSERT INTO source (person_id, key, name, kind, device, utc_offset_s)
            VALUES (%s, %s, %s, %s, %s, %s)
            ON CONFLICT (person_id, key) DO UPDATE
               SET name = EXCLUDED.name,
                   device = coalesce(EXCLUDED.device, source.device),
                   utc_offset_s = coalesce(EXCLUDED.utc_offset_s, source.utc_offset_s)
            RETURNING id""",
            (self.person_id, source.key, source.name, source.kind, source.device,
             utc_offset_s)).fetchone()
        self.sources[source] = row["id"]
        return row["id"]

    def add_samples(self, batch: SampleBatch) -> None:
        if not len(batch):
            return
        ts, value = batch.ts, batch.value
        ok = np.isfinite(value)
        self.invalid["non-finite value"] += int(ok.size - np.count_nonzero(ok))
        in_span = (ts >= to_epoch_us(EARLIEST_TS)) & (ts <= self.latest_allowed_us)
        self.invalid["timestamp before 1990 or in the future"] += int(
            np.count_nonzero(ok & ~in_span))
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
            cur.execute("""
                INSERT INTO observation (person_id, metric, source_id, ts, value, import_id,
                                         context)
                SELECT %s, (%s::metric[])[metric_code], source_id, ts, value, %s,
                       nullif(context, -1)
                FROM stage_observation
                ON CONFLICT DO NOTHING""", (self.person_id, list(METRICS), self.import_id))
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
            cur.execute("""
                INSERT INTO sleep_episode (person_id, source_id, starts_at, ends_at, stage, import_id)
                SELECT %(person)s, source_id, starts_at, ends_at, kind, %(import)s
                FROM stage_episode WHERE kind <> 'mindful'
                ON CONFLICT DO NOTHING""", {"person": self.person_id, "import": self.import_id})
            self.inserted += cur.rowcount
            cur.execute("""
                INSERT INTO rest_episode (person_id, source_id, starts_at, ends_at, import_id)
                SELECT %(person)s, source_id, starts_at, ends_at, %(import)s
                FROM stage_episode WHERE kind = 'mindful'
                ON CONFLICT DO NOTHING""", {"person": self.person_id, "import": self.import_id})
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


def run_import(pool: ConnectionPool, import_id: int, path: Path, *,
               format_name: str | None = None, start: dt.datetime | None = None,
               on_progress: Callable[[int, int | None], None] | None = None,
               connector: Connector | None = None) -> ImportOutcome:
    """Run one queued import to completion; never raises for bad input.

    The connector is ``connector`` when given (generated data in benchmarks),
    else the one named by ``format_name``, else detected from the content.

    The outcome is ``completed`` or ``failed`` (with the reason, naming the
    file and line where the connector could). Database outages propagate
    (``psycopg.OperationalError``) so that a job runner can retry.
    """
    with pool.connection() as progress_conn:
        progress_conn.autocommit = True
        # Finding the import's person is a system read; from then on both
        # connections act for that person only (row-level security).
        rls.act_as_system(progress_conn)
        record = import_repo.get(progress_conn, import_id)
        if record is None:
            raise LookupError(f"import {import_id} does not exist")
        person_id = str(record["person_id"])
        rls.act_for_person(progress_conn, person_id)
        tz = import_repo.person_tz(progress_conn, person_id)
        started = time.monotonic()
        try:
            digest, size = sha256_of(path)
            if connector is None:
                connector = get_connector(format_name) if format_name else detect(path)
        except (ConnectorError, OSError) as exc:
            return _fail(progress_conn, import_id, _describe(path, exc), path)
        import_repo.mark_running(progress_conn, import_id, connector=connector.name,
                                 sha256=digest, size_bytes=size)
        report = ReadReport()
        ctx = ReadContext(start=_aware(start, tz), tz=tz)
        try:
            with pool.connection() as data_conn:
                with data_conn.transaction():
                    rls.act_for_person(data_conn, person_id)
                    loader = _Loader(data_conn, person_id, import_id)
                    report.on_progress = _progress_writer(progress_conn, import_id, loader,
                                                          on_progress)
                    for item in connector.read(path, ctx, report):
                        if isinstance(item, SampleBatch):
                            loader.add_samples(item)
                        else:
                            loader.add_episode(item)
                    loader.finish()
                    outcome = _outcome(import_id, loader, report)
                    import_repo.finish(data_conn, import_id, outcome=outcome, report=report,
                                       seconds=time.monotonic() - started)
        except psycopg.OperationalError:
            _fail_quietly(progress_conn, import_id, "database connection lost during import")
            raise
        except ConnectorError as exc:
            return _fail(progress_conn, import_id, str(exc), path)
        except Exception as exc:  # a connector bug on odd input must not take the process down
            log.exception("import %s of %s failed unexpectedly", import_id, path)
            return _fail(progress_conn, import_id, _describe(path, exc), path)
        log.info("import %s: %s", import_id, outcome)
        return outcome


def _progress_writer(conn: psycopg.Connection, import_id: int, loader: _Loader,
                     also: Callable[[int, int | None], None] | None):
    """A throttled callback that writes bytes and records read so far to the import row."""
    last = [0.0]

    def write(report: ReadReport) -> None:
        if also is not None:
            also(report.bytes_read, report.bytes_total)
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            import_repo.update_progress(
                conn, import_id, bytes_read=report.bytes_read,
                read=loader.staged + loader.pending + sum(report.rejected.values()))

    return write


def _outcome(import_id: int, loader: _Loader, report: ReadReport) -> ImportOutcome:
    reasons = Counter(report.rejected)
    reasons.update({k: v for k, v in loader.invalid.items() if v})
    rejected = sum(reasons.values())
    return ImportOutcome(
        import_id=import_id, status="completed", read=loader.staged + rejected,
        inserted=loader.inserted, duplicates=loader.staged - loader.inserted,
        rejected=rejected, rejected_reasons=dict(reasons))


def _aware(moment: dt.datetime | None, tz: str) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=ZoneInfo(tz))
    return moment


def _describe(path: Path, exc: BaseException) -> str:
    if isinstance(exc, ConnectorError):
        return str(exc)
    return f"{path}: {type(exc).__name__}: {exc}"


def _fail(conn: psycopg.Connection, import_id: int, reason: str,
          path: Path | None = None) -> ImportOutcome:
    if path is not None:
        # Name the file as the user knows it, not by where the server keeps it.
        reason = reason.replace(str(path.parent) + "/", "")
    import_repo.fail(conn, import_id, reason)
    return ImportOutcome(import_id=import_id, status="failed", error=reason)


def _fail_quietly(conn: psycopg.Connection, import_id: int, reason: str) -> None:
    try:
        import_repo.fail(conn, import_id, reason)
    except psycopg.Error:
        pass  # the database is gone; the job runner will retry the import

