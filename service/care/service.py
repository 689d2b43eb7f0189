"""Sessions, self-reports and lab results: the rules shared by the API and the CLI.

Bodies arrive validated field by field (``api.schemas_sessions``); here come
the checks that need the person's zone or the database: local times, session
length, overlaps, the therapist, and that an attached session is the same
person's. Nothing here commits; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from service.care.repository import lab_results, self_reports, sessions
from service.care.schemas import (
    MAX_SESSION,
    REST_PRESSURE,
    LabResultCreate,
    SelfReportCreate,
    SessionCreate,
    SessionUpdate,
    is_rest,
)
from service.core import localtime, units
from service.core.db.types import Conn

#: How far from its session an attached report or sample may be taken.
ATTACH_MARGIN = dt.timedelta(hours=24)


class CareError(Exception):
    """A request these rules refuse: the field it is about, and why (status 422 or 409)."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        self.field = field
        self.message = message
        self.status = status
        super().__init__(f"{field}: {message}")


def resolve(value: dt.datetime, tz: str, field: str, warnings: list[str]) -> dt.datetime:
    """The UTC instant of a request time; ambiguity notes go to ``warnings``."""
    try:
        resolved = localtime.to_utc(value, tz)
    except localtime.LocalTimeError as exc:
        raise CareError(field, str(exc)) from None
    if resolved.note:
        warnings.append(f"{field}: {resolved.note}")
    return resolved.utc


# --- sessions -------------------------------------------------------------------------------


def add_session(conn: Conn, person: dict[str, Any], body: SessionCreate) -> dict[str, Any]:
    """Store a session; the response object (see ``session_out``)."""
    warnings: list[str] = []
    start = resolve(body.start, person["tz"], "start", warnings)
    end = resolve(body.end, person["tz"], "end", warnings)
    therapist = str(body.therapist_id) if body.therapist_id else None
    _check_session(conn, person, start, end, therapist, exclude_id=None)
    row = sessions.create(
        conn,
        person_id=str(person["id"]),
        starts_at=start,
        ends_at=end,
        modality=body.modality,
        pressure=body.pressure,
        therapist_id=therapist,
        body_areas=body.body_areas,
        notes=body.notes,
    )
    return session_out(row, person["tz"], warnings)


def edit_session(
    conn: Conn, person: dict[str, Any], current: dict[str, Any], body: SessionUpdate
) -> dict[str, Any]:
    """Apply the fields given in a PATCH and re-check the whole session."""
    warnings: list[str] = []
    given = body.model_fields_set
    changes: dict[str, Any] = {}
    if "start" in given and body.start is not None:
        changes["starts_at"] = resolve(body.start, person["tz"], "start", warnings)
    if "end" in given and body.end is not None:
        changes["ends_at"] = resolve(body.end, person["tz"], "end", warnings)
    if "therapist_id" in given:
        changes["therapist_id"] = str(body.therapist_id) if body.therapist_id else None
    if "body_areas" in given:
        changes["body_areas"] = body.body_areas or []
    for name in ("modality", "pressure", "notes"):
        if name in given:
            changes[name] = getattr(body, name)
    # A session that becomes a rest control must lose its pressure in the same change.
    if (
        is_rest(changes.get("modality", current["modality"]))
        and changes.get("pressure", current["pressure"]) is not None
    ):
        raise CareError("pressure", REST_PRESSURE)
    start = changes.get("starts_at", current["starts_at"])
    end = changes.get("ends_at", current["ends_at"])
    therapist = changes.get("therapist_id")
    # Blame the field the caller changed when only the start moved past the end.
    moved = "start" if "start" in given and "end" not in given else "end"
    _check_session(conn, person, start, end, therapist, exclude_id=current["id"], moved=moved)
    row = sessions.update(conn, current["id"], changes)
    if row is None:
        raise LookupError(f"session {current['id']} disappeared during the update")
    return session_out(row, person["tz"], warnings)


def _check_session(
    conn: Conn,
    person: dict[str, Any],
    start: dt.datetime,
    end: dt.datetime,
    therapist_id: str | None,
    *,
    exclude_id: int | None,
    moved: str = "end",
) -> None:
    tz = person["tz"]
    if end <= start:
        raise CareError(
            moved, f"the session must end after it starts ({_shown(start, tz)} to {_shown(end, tz)})"
        )
    if end - start > MAX_SESSION:
        raise CareError(
            moved,
            f"a session lasts at most {MAX_SESSION.seconds // 3600} hours; "
            f"this one lasts {(end - start).total_seconds() / 3600:.1f}",
        )
    if therapist_id is not None and not sessions.therapist_exists(conn, therapist_id):
        raise CareError("therapist_id", f"no therapist account {therapist_id}")
    sessions.lock_person(conn, str(person["id"]))
    other = sessions.overlapping(
        conn, person_id=str(person["id"]), starts_at=start, ends_at=end, exclude_id=exclude_id
    )
    if other is not None:
        raise CareError(
            "start",
            f"overlaps session {other['id']} ({_shown(other['starts_at'], tz)}"
            f" to {_shown(other['ends_at'], tz)})",
            status=409,
        )


def session_out(row: dict[str, Any], tz: str, warnings: list[str] | None = None) -> dict[str, Any]:
    """A stored session as the API and CLI show it: UTC and local times side by side."""
    start, end = localtime.utc(row["starts_at"]), localtime.utc(row["ends_at"])
    return {
        "id": row["id"],
        "person_id": row["person_id"],
        "therapist_id": row["therapist_id"],
        "start": start,
        "start_local": localtime.local(start, tz),
        "end": end,
        "end_local": localtime.local(end, tz),
        "tz": tz,
        "duration_minutes": round((end - start).total_seconds() / 60, 2),
        "modality": row["modality"],
        "pressure": row["pressure"],
        "body_areas": list(row["body_areas"]),
        "notes": row["notes"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "warnings": warnings or [],
    }


# --- self-reports and lab results -----------------------------------------------------------


def add_report(conn: Conn, person: dict[str, Any], body: SelfReportCreate) -> dict[str, Any]:
    warnings: list[str] = []
    ts = resolve(body.time, person["tz"], "time", warnings)
    _check_attachment(conn, person, ts, body.session_id, body.phase)
    row = self_reports.create(
        conn,
        person_id=str(person["id"]),
        ts=ts,
        kind=body.kind,
        value=body.value,
        session_id=body.session_id,
        phase=body.phase,
    )
    return report_out(row, person["tz"], warnings)


def report_out(row: dict[str, Any], tz: str, warnings: list[str] | None = None) -> dict[str, Any]:
    ts = localtime.utc(row["ts"])
    return {
        "id": row["id"],
        "person_id": row["person_id"],
        "time": ts,
        "time_local": localtime.local(ts, tz),
        "kind": row["kind"],
        "value": row["value"],
        "headache": row["value"] > 0 if row["kind"] == "headache" else None,
        "session_id": row["session_id"],
        "phase": row["phase"],
        "created_at": row["created_at"],
        "warnings": warnings or [],
    }


def add_lab(conn: Conn, person: dict[str, Any], body: LabResultCreate) -> dict[str, Any]:
    warnings: list[str] = []
    ts = resolve(body.time, person["tz"], "time", warnings)
    _check_attachment(conn, person, ts, body.session_id, body.phase)
    row = lab_results.create(
        conn,
        person_id=str(person["id"]),
        ts=ts,
        analyte=body.analyte,
        value=body.value,
        unit=body.unit,
        specimen=body.specimen,
        value_nmol_l=units.cortisol_nmol_l(body.value, body.unit),
        session_id=body.session_id,
        phase=body.phase,
    )
    return lab_out(row, person["tz"], warnings)


def lab_out(row: dict[str, Any], tz: str, warnings: list[str] | None = None) -> dict[str, Any]:
    ts = localtime.utc(row["ts"])
    return {
        "id": row["id"],
        "person_id": row["person_id"],
        "time": ts,
        "time_local": localtime.local(ts, tz),
        "analyte": row["analyte"],
        "specimen": row["specimen"],
        "value": row["value"],
        "unit": row["unit"],
        "value_nmol_l": row["value_nmol_l"],
        "session_id": row["session_id"],
        "phase": row["phase"],
        "created_at": row["created_at"],
        "warnings": warnings or [],
    }


def _check_attachment(
    conn: Conn, person: dict[str, Any], ts: dt.datetime, session_id: int | None, phase: str | None
) -> None:
    """A session link needs a phase, a session of the same person, and a time that fits it."""
    if session_id is None:
        if phase is not None:
            raise CareError("phase", "needs session_id: before or after which session?")
        return
    if phase is None:
        raise CareError("phase", "give before or after with session_id")
    session = sessions.get(conn, session_id)
    if session is None or str(session["person_id"]) != str(person["id"]):
        raise CareError("session_id", f"no session {session_id} of this person")
    start, end = session["starts_at"], session["ends_at"]
    span = f"session {session_id}: {_shown(start, person['tz'])} to {_shown(end, person['tz'])}"
    if phase == "before" and not start - ATTACH_MARGIN <= ts <= end:
        raise CareError("time", f"a 'before' time lies in the 24 hours up to the session's end ({span})")
    if phase == "after" and not start <= ts <= end + ATTACH_MARGIN:
        raise CareError(
            "time", f"an 'after' time lies between the session's start and 24 hours after its end ({span})"
        )


def _shown(instant: dt.datetime, tz: str) -> str:
    """An instant as the person reads it, for messages."""
    return localtime.local(instant, tz).isoformat()
