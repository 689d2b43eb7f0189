"""Background machinery inside another process: ``vagus serve`` runs API + clock + worker."""

from __future__ import annotations

from dataclasses import dataclass

from service.core.db.types import Pool
from service.core.settings import Settings
from service.jobs.scheduler import Scheduler
from service.jobs.worker import Worker


@dataclass
class Background:
    scheduler: Scheduler | None
    worker: Worker | None

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.worker is not None:
            self.worker.stop()


def start(
    pool: Pool, settings: Settings, url: str, *, scheduler: bool = True, concurrency: int = 1
) -> Background:
    """Start a scheduler candidate and a worker with ``concurrency`` threads (0: none)."""
    clock = Scheduler(pool, settings, url) if scheduler else None
    worker = Worker(pool, settings, concurrency=concurrency) if concurrency > 0 else None
    if clock is not None:
        clock.start()
    if worker is not None:
        worker.start()
    return Background(clock, worker)
