"""The clock: APScheduler in exactly one elected process.

Every replica runs a :class:`Scheduler`; one of them wins a PostgreSQL
advisory lock held on a dedicated connection and starts APScheduler, the
others keep trying. When the leader dies its session ends, the lock is
released, and another replica wins it on its next try (within
``scheduler_election_s``). A leader that loses its connection stops its clock
at once.

The clock only enqueues jobs (workers do the work). Each periodic run is keyed
by its kind and the start of its period (``maintenance:2026-01-01T03:00:00Z``),
so even two leaders in a split-brain moment cannot enqueue the same period
twice: the second insert hits the unique key. Each tick also queues the
previous period if it is missing, so a late tick or a change of leader loses
no period.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from psycopg_pool import PoolTimeout

from service.core.db import connect
from service.core.db.types import Conn, Pool
from service.core.settings import Settings
from service.jobs.context import job_connection_setup
from service.jobs.queue import enqueue

log = logging.getLogger(__name__)

#: Arbitrary constant naming the scheduler election lock.
SCHEDULER_LOCK_ID = 0x56A605_0020


@dataclass(frozen=True)
class Periodic:
    kind: str
    every_s: float


def periodic_jobs(settings: Settings) -> list[Periodic]:
    return [
        Periodic("inbox_sync", settings.inbox_every_s),
        Periodic("recompute_sweep", settings.recompute_every_s),
        Periodic("baseline_sweep", settings.baselines_every_s),
        Periodic("maintenance", settings.maintenance_every_s),
        Periodic("sync_sweep", settings.sync_sweep_every_s),
    ]  # due cloud connections


def period_key(kind: str, every_s: float, now: dt.datetime) -> str:
    """``kind:<start of the period holding now>``, the same on every replica."""
    epoch = now.timestamp()
    start = dt.datetime.fromtimestamp(epoch - epoch % every_s, dt.UTC)
    return f"{kind}:{start.isoformat(timespec='milliseconds')}"


def enqueue_period(pool: Pool, kind: str, every_s: float, now: dt.datetime | None = None) -> bool:
    """Queue this period's run of ``kind`` unless some replica already did."""
    key = period_key(kind, every_s, now or dt.datetime.now(dt.UTC))
    with pool.connection() as conn:
        job_connection_setup(conn)
        return enqueue(conn, kind, {"period": key.split(":", 1)[1]}, unique_key=key) is not None


class Scheduler:
    """Campaigns for the election lock and runs the clock while it holds it."""

    def __init__(self, pool: Pool, settings: Settings, url: str) -> None:
        self.pool = pool
        self.settings = settings
        self.url = url
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_conn: Conn | None = None
        self._clock: BackgroundScheduler | None = None

    @property
    def is_leader(self) -> bool:
        return self._clock is not None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._campaign, name="vagus-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        self._resign()

    def _campaign(self) -> None:
        while not self._stop.is_set():
            try:
                if self.is_leader:
                    assert self._lock_conn is not None  # elected on this session (_try_lock)
                    connect.ping(self._lock_conn)  # still holding: the session is alive
                elif self._try_lock():
                    self._lead()
            except psycopg.Error as exc:
                log.warning("scheduler: lost the database (%s); stepping down", exc)
                self._resign()
            self._stop.wait(self.settings.scheduler_election_s)

    def _try_lock(self) -> bool:
        if self._lock_conn is None or self._lock_conn.closed:
            self._lock_conn = connect.connect(self.url, autocommit=True)
        return connect.try_session_lock(self._lock_conn, SCHEDULER_LOCK_ID)

    def _lead(self) -> None:
        log.info("scheduler: elected; starting the clock")
        clock = BackgroundScheduler(timezone=dt.UTC)
        now = dt.datetime.now(dt.UTC)
        for job in periodic_jobs(self.settings):
            # Fire just after each period boundary, so each tick lands inside the
            # period it names; the first tick (now) catches up the current period.
            epoch = now.timestamp()
            boundary = epoch - epoch % job.every_s + min(job.every_s * 0.05, 1.0)
            start = dt.datetime.fromtimestamp(boundary, dt.UTC)
            clock.add_job(
                self._tick,
                IntervalTrigger(seconds=job.every_s, start_date=start),
                args=[job],
                id=job.kind,
                next_run_time=now,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )
        self._clock = clock
        clock.start()

    def _tick(self, job: Periodic) -> None:
        if not self.is_leader:
            return
        now = dt.datetime.now(dt.UTC)
        try:
            # The previous period too: a tick delayed past a boundary (a stalled
            # process, a leader that died just before its tick) must not lose a
            # period. Its key makes this a no-op when it was queued already.
            for moment in (now - dt.timedelta(seconds=job.every_s), now):
                if enqueue_period(self.pool, job.kind, job.every_s, moment):
                    log.debug("scheduler: queued %s", period_key(job.kind, job.every_s, moment))
        except (psycopg.Error, PoolTimeout) as exc:
            log.warning("scheduler: could not queue %s: %s", job.kind, exc)

    def _resign(self) -> None:
        clock, self._clock = self._clock, None
        if clock is not None:
            clock.shutdown(wait=False)
        conn, self._lock_conn = self._lock_conn, None
        if conn is not None:
            try:
                conn.close()  # closing the session releases the advisory lock
            except psycopg.Error:
                pass
