"""The therapist's workflow: whom they care for, how each is doing today, what each session did.

Everything here reads through the caller's own connection, so row-level security and the
grant's scopes decide what shows: a figure the grant does not cover is null, never guessed.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from service.access import authz
from service.access.auth import Principal
from service.analysis import recovery as recovery_analysis
from service.analysis import session_response as response_analysis
from service.clients import repository
from service.core.db.types import Conn

log = logging.getLogger(__name__)

#: Daily recovery statuses a client list shows; ``insufficient_data`` is shown as null.
SHOWN_STATUSES = ("below", "within", "above")


def clients(
    conn: Conn, caller: Principal, *, limit: int, after: tuple[str, str] | None
) -> list[dict[str, Any]]:
    """A page of the caller's clients (persons with a live grant to it), by name."""
    out = []
    for row in repository.page(conn, caller.account_id, limit=limit, after=after):
        scopes = set(row["scopes"])
        person = {"id": row["person_id"], "name": row["name"], "tz": row["tz"]}
        status = None
        if authz.READ_EVIDENCE in scopes:
            # Decided and audited like any read of the person's evidence.
            authz.require(conn, caller, str(row["person_id"]), authz.READ_EVIDENCE)
            status = recovery_today(conn, person)
        out.append(
            {
                "person_id": row["person_id"],
                "name": row["name"],
                "tz": row["tz"],
                "last_import_at": row["last_import_at"] if authz.READ_OBSERVATIONS in scopes else None,
                "last_session_at": row["last_session_at"] if authz.READ_SESSIONS in scopes else None,
                "recovery_status": status,
            }
        )
    return out


def recovery_today(conn: Conn, person: dict[str, Any], today: dt.date | None = None) -> str | None:
    """Today's (local) daily recovery status from ``service.analysis.recovery``, or None."""
    today = today or dt.datetime.now(ZoneInfo(person["tz"])).date()
    try:
        with conn.transaction():  # a savepoint: a failure leaves the request's transaction usable
            days = recovery_analysis.recovery(conn, str(person["id"]), person["tz"], today, today)
    except Exception:  # one client's odd data must not take the whole list down
        log.exception("recovery status of person %s failed", person["id"])
        return None
    status = days[0]["status"] if days else None
    return status if status in SHOWN_STATUSES else None


def headline(body: dict[str, Any]) -> dict[str, Any]:
    """A stored session response cut to what a list shows: summary and each metric's change."""
    metrics = {}
    for name, metric in (body.get("metrics") or {}).items():
        metrics[name] = {key: metric.get(key) for key in ("pre", "post", "delta", "improved")}
        if metric.get("unit") is not None:
            metrics[name]["unit"] = metric["unit"]
    return {"summary": body.get("summary"), "metrics": metrics}


def session_responses(
    conn: Conn, person: dict[str, Any], sessions: list[dict[str, Any]], cfg: response_analysis.WindowConfig
) -> list[dict[str, Any]]:
    """Each session with its response's headline (computed and stored when missing or stale)."""
    out = []
    for session in sessions:
        try:
            with conn.transaction():  # a savepoint, as above
                body = response_analysis.cached_session_response(conn, session, person["tz"], cfg)
        except Exception as exc:  # one session's odd data must not hide the others
            log.exception("response of session %s failed", session["id"])
            out.append(
                {
                    "session": session,
                    "response": None,
                    "error": f"the response could not be computed ({type(exc).__name__})",
                }
            )
            continue
        out.append({"session": session, "response": headline(body), "error": None})
    return out
