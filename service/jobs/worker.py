"""A worker: threads that claim jobs, run their handlers, and keep their leases alive.

Any number of workers on any number of machines share one queue. Each claim
leases the job for ``job_lease_s`` seconds; a heartbeat thread extends the
leases of the jobs this process is running. When the process dies (SIGKILL,
power loss, a lost network) the heartbeat stops, the lease lapses, and
another worker claims the job again. Failed attempts are retried after an
exponential backoff until ``max_attempts``, then the job is ``dead``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout

from service.core.db.types import Pool
from service.core.settings import Settings
from service.jobs import registry
from service.jobs import repository as job_repo
from service.jobs.context import job_connection_setup

log = logging.getLogger(__name__)


def backoff_s(settings: Settings, attempt: int) -> float:
    """Delay before the next try after failed attempt number ``attempt`` (1-based)."""
    return min(settings.job_retry_base_s * 2 ** (attempt - 1), settings.job_retry_max_s)


class Worker:
    """``concurrency`` job threads plus one heartbeat thread, sharing ``pool``."""

    def __init__(
        self,
        pool: Pool,
        settings: Settings,
        *,
        concurrency: int = 1,
        kinds: list[str] | None = None,
        name: str | None = None,
    ) -> None:
        self.pool = pool
        self.settings = settings
        self.concurrency = concurrency
        self.kinds = kinds
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        #: Running jobs: id to (attempt number, the handler's context).
        self._held: dict[int, tuple[int, registry.JobContext]] = {}
        self._held_lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        for i in range(self.concurrency):
            self._spawn(self._run_loop, f"vagus-worker-{i}")
        self._spawn(self._heartbeat_loop, "vagus-heartbeat")
        log.info("worker %s started (%d thread(s))", self.name, self.concurrency)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop claiming; wait for running jobs (their leases lapse if they outlive this)."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _spawn(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- claiming and running --------------------------------------------------------------

    def _run_loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except (psycopg.Error, PoolTimeout) as exc:
                # The database is away; keep polling until it is back.
                log.warning("worker %s: cannot reach the queue: %s", self.name, exc)
                ran = False
            if not ran:
                self._stop.wait(self.settings.job_poll_s)

    def run_once(self) -> bool:
        """Claim and run one job in this thread; False when nothing was ready."""
        job = self._claim()
        if job is None:
            return False
        ctx = registry.JobContext(pool=self.pool, settings=self.settings, job=job)
        with self._held_lock:
            self._held[job["id"]] = (job["attempts"], ctx)
        try:
            self._execute(ctx)
        finally:
            with self._held_lock:
                self._held.pop(job["id"], None)
        return True

    def _claim(self) -> dict[str, Any] | None:
        kinds = self.kinds or registry.names()
        with self.pool.connection() as conn:
            job_connection_setup(conn)
            job_repo.bury_exhausted(conn)
            return job_repo.claim(conn, worker=self.name, kinds=kinds, lease_s=self.settings.job_lease_s)

    def _execute(self, ctx: registry.JobContext) -> None:
        job = ctx.job
        spec = registry.get(job["kind"])
        log.info("job %s (%s) attempt %s/%s", job["id"], job["kind"], job["attempts"], job["max_attempts"])
        try:
            if spec is None:
                raise LookupError(f"no handler for job kind {job['kind']!r}")
            result = spec.handler(ctx, job["payload"])
        except Exception as exc:  # noqa: BLE001  (any failure is a retry, never a dead worker)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            retry = (
                backoff_s(self.settings, job["attempts"]) if job["attempts"] < job["max_attempts"] else None
            )
            log.warning(
                "job %s (%s) failed (%s); %s",
                job["id"],
                job["kind"],
                error,
                "dead" if retry is None else f"retry in {retry:g} s",
            )
            self._record(job_repo.fail, job, error, retry_in_s=retry)
            return
        self._record(job_repo.succeed, job, result)

    def _record(self, update, job: dict[str, Any], *args, **kwargs) -> None:
        try:
            with self.pool.connection() as conn:
                job_connection_setup(conn)
                if not update(conn, job, *args, **kwargs):
                    log.warning(
                        "job %s: lease was lost before it finished; another worker owns it now", job["id"]
                    )
        except (psycopg.Error, PoolTimeout) as exc:
            # Unrecorded: the lease lapses and the job runs again (handlers are idempotent).
            log.warning("job %s: could not record the outcome: %s", job["id"], exc)

    # -- leases ----------------------------------------------------------------------------

    def _heartbeat_loop(self) -> None:
        interval = max(self.settings.job_lease_s / 3, 0.2)
        while not self._stop.wait(interval):
            with self._held_lock:
                held = dict(self._held)
            if not held:
                continue
            try:
                with self.pool.connection() as conn:
                    job_connection_setup(conn)
                    kept = job_repo.heartbeat(
                        conn,
                        worker=self.name,
                        lease_s=self.settings.job_lease_s,
                        held={job_id: attempt for job_id, (attempt, _) in held.items()},
                    )
                lost = sorted(set(held) - set(kept))
                if lost:
                    log.warning("worker %s lost the lease of job(s) %s", self.name, lost)
                for job_id in lost:
                    held[job_id][1].lost.set()  # the handler stops without committing
            except (psycopg.Error, PoolTimeout) as exc:
                log.warning("worker %s: heartbeat failed: %s", self.name, exc)
