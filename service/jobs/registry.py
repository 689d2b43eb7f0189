"""Job kinds and their handlers.

A handler is a plain function ``handler(ctx, payload) -> result`` registered
under a kind name. It must be idempotent: a job is retried after an error and
re-run after its worker dies, so running it twice must leave the same state
as running it once. Raise to fail the attempt (it is retried with backoff);
return a JSON-able result to succeed.

The product's kinds are listed in one place, ``service.tasks``, and installed
explicitly at start-up (``service.tasks.install()``); this module knows none of
them, so the queue machinery imports no domain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from service.core.db.types import Pool
from service.core.settings import Settings


@dataclass(frozen=True)
class JobContext:
    """What a handler gets besides its payload."""

    pool: Pool
    settings: Settings
    job: dict[str, Any]
    #: Set by the worker's heartbeat when this attempt lost the job (its lease lapsed and
    #: another claim took it): a long handler checks it and stops without committing.
    lost: threading.Event = field(default_factory=threading.Event)

    @property
    def attempt(self) -> int:
        return int(self.job["attempts"])

    def lost_reason(self) -> str | None:
        """Why this attempt must stop (for handlers' stop checks), or None."""
        if self.lost.is_set():
            return f"job {self.job['id']} lost its lease to another claim"
        return None


Handler = Callable[[JobContext, dict[str, Any]], Any]


@dataclass(frozen=True)
class Kind:
    name: str
    handler: Handler
    max_attempts: int = 5


_KINDS: dict[str, Kind] = {}


def install(kinds: Iterable[Kind]) -> None:
    """Make ``kinds`` runnable and queueable (replacing earlier ones of the same name)."""
    for kind in kinds:
        _KINDS[kind.name] = kind


def register(name: str, *, max_attempts: int = 5) -> Callable[[Handler], Handler]:
    """Decorator form of :func:`install` for one handler (tests add their own kinds)."""

    def wrap(handler: Handler) -> Handler:
        install([Kind(name, handler, max_attempts)])
        return handler

    return wrap


def get(name: str) -> Kind | None:
    return _KINDS.get(name)


def names() -> list[str]:
    return sorted(_KINDS)
