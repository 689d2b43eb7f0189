"""Bring a person's stored results up to date after new data (the recompute job's work)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from service.access.repository import persons
from service.analysis import repository as responses
from service.analysis.recovery import recovery
from service.analysis.session_response import DEFAULT_WINDOWS, WindowConfig, cached_session_response
from service.care.repository import sessions as session_repo
from service.core.db.types import Conn
from service.evidence.person import person_evidence


@dataclass
class Recomputed:
    person_id: str
    data_version: str
    sessions: dict[int, dict[str, Any]] = field(default_factory=dict)  # recomputed responses
    evidence: dict[str, Any] | None = None  # set when any response changed


def stale_sessions(conn: Conn, person_id: str, version: str, cfg: WindowConfig) -> list[dict]:
    """The person's sessions whose stored response is missing or out of date."""
    return [
        session
        for session in session_repo.in_range(conn, person_id=person_id)
        if responses.current(conn, session["id"], algorithm_version=cfg.version, version=version) is None
    ]


def recompute_person(conn: Conn, person_id: str, cfg: WindowConfig = DEFAULT_WINDOWS) -> Recomputed | None:
    """Recompute stale session responses and, if any changed, the person's evidence."""
    person = persons.get(conn, person_id)
    if person is None:
        return None  # erased since the job was queued
    version = responses.data_version(conn, person_id)
    result = Recomputed(person_id, version)
    for session in stale_sessions(conn, person_id, version, cfg):
        result.sessions[session["id"]] = cached_session_response(conn, session, person["tz"], cfg)
    if result.sessions:
        result.evidence = person_evidence(conn, person, cfg)
    return result


def night_recovery(conn: Conn, person_id: str, local_date: dt.date) -> dict[str, Any] | None:
    """The recovery status of one local day (its night just ended)."""
    person = persons.get(conn, person_id)
    if person is None:
        return None
    [day] = recovery(conn, person_id, person["tz"], local_date, local_date)
    return day
