"""Uploading exports and following their imports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from service.access import authz
from service.access.deps import Caller, Db, audit_denial, person_or_404, scoped_connection
from service.core import localtime
from service.core.db.types import Conn, Row, returned
from service.core.http import cursor
from service.core.http.openapi import LOCATION
from service.core.http.problems import PROBLEM_RESPONSES, Problem, ProblemError
from service.imports import receive, uploads
from service.imports import repository as imports
from service.imports.schemas import ImportPage, ImportRecord
from service.imports.service import EMPTY_FILE
from service.jobs.queue import enqueue

router = APIRouter(tags=["imports"], responses=PROBLEM_RESPONSES)

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The export file (zip, xml, fit, csv, txt): the raw request body, "
        "or a multipart form whose part `file` holds it.",
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}


def _record(conn: Conn, row: Row) -> ImportRecord:
    same = None
    if row["status"] == "completed" and row["sha256"]:
        same = imports.earlier_same_file(conn, str(row["person_id"]), row["sha256"], row["id"])
    progress = None
    if row["bytes_total"]:
        progress = round(min(row["bytes_read"] / row["bytes_total"], 1.0), 4)
    elif row["status"] == "completed":
        progress = 1.0
    return ImportRecord(
        **{k: v for k, v in row.items() if k != "stored_path"}, same_file_as=same, progress=progress
    )


@router.post(
    "/v1/persons/{person_id}/imports",
    response_model=ImportRecord,
    status_code=202,
    openapi_extra=_UPLOAD_BODY,
    responses={
        202: LOCATION,
        507: {
            "model": Problem,
            "content": {"application/problem+json": {}},
            "description": "No room to store the upload",
        },
    },
)
async def upload(
    person_id: UUID,
    request: Request,
    caller: Caller,
    filename: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=255,
            description="The file's name (its extension helps detection); required for a raw body, "
            "taken from the file part of a multipart upload otherwise.",
        ),
    ] = None,
    format: Annotated[str | None, Query(description="Skip detection: the connector to use.")] = None,
    start: Annotated[
        dt.datetime | None,
        Query(
            description="Recording start, for files without absolute times (plain RR lists); "
            "without a UTC offset it is read in the person's time zone."
        ),
    ] = None,
) -> JSONResponse:
    """Upload an export as the raw body; it is stored and queued, and its record returned.

    The answer comes at once with status `queued`; a worker imports the file,
    and `GET /v1/imports/{id}` shows its progress (bytes and records so far)
    and outcome. Re-uploading the same file inserts nothing (every row is reported as a
    duplicate) and `same_file_as` names the earlier import.
    """
    settings = request.app.state.settings
    limit = settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise receive.too_large(limit)
    # Database and disk work runs in threads: the event loop never blocks (defect 3).
    person = await run_in_threadpool(_authorize, request, caller, str(person_id))
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data") and not filename:
        raise ProblemError(
            422, "validation-error", "filename: required with a raw-body upload (?filename=export.zip)"
        )
    start_hint = _start(start, person["tz"])
    try:
        incoming = await run_in_threadpool(uploads.incoming_path, settings.upload_dir, str(person_id))
    except uploads.UnsafePath:
        # The person's upload folder is a link (tampering on the server): store nothing.
        raise ProblemError(
            500,
            "storage-refused",
            "the server's upload folder for this person is not safe to use; an operator must check it",
        ) from None
    try:
        got = await receive.save(request.stream(), content_type, incoming, limit=limit)
        name = filename or got.filename or "upload"
        if got.size == 0:
            # Worded as `vagus import` words an empty file (service.imports.service.EMPTY_FILE).
            raise ProblemError(
                400, "empty-file", f"{name}: {EMPTY_FILE} (the request body is empty: send the file itself)"
            )
        record = await run_in_threadpool(
            _register, request, caller, str(person_id), incoming, name, format, start_hint
        )
        return JSONResponse(
            record.model_dump(mode="json"), status_code=202, headers={"Location": f"/v1/imports/{record.id}"}
        )
    except OSError as exc:
        if exc.errno not in receive.NO_SPACE:
            raise
        raise ProblemError(
            507, "insufficient-storage", "the server has no room to store this upload now"
        ) from None
    finally:
        await run_in_threadpool(incoming.unlink, missing_ok=True)


def _authorize(request: Request, caller, person_id: str) -> dict:
    try:
        with scoped_connection(request.app.state.pool, caller, request) as conn:
            return person_or_404(conn, caller, person_id, authz.WRITE_IMPORTS)
    except ProblemError as exc:
        if exc.denied is not None:
            audit_denial(request, caller, exc.denied)
        raise


def _start(start: dt.datetime | None, tz: str) -> dt.datetime | None:
    """``start=`` as an instant: a naive time is read in the person's zone, and refused
    when it names no instant (a daylight-saving gap) rather than silently shifted."""
    if start is None:
        return None
    try:
        return localtime.to_utc(start, tz).utc
    except localtime.LocalTimeError as exc:
        raise ProblemError(422, "validation-error", f"start: {exc}") from None


def _register(
    request: Request,
    caller,
    person_id: str,
    incoming: Path,
    name: str,
    format: str | None,
    start: dt.datetime | None,
) -> ImportRecord:
    """One transaction: the ledger row, the file moved to its place, the queued job.

    All or nothing: if anything fails (the database, the commit) the placed file is
    removed, so there is never a queued import without its job or a file without its row.
    """
    settings = request.app.state.settings
    target: Path | None = None
    try:
        with scoped_connection(request.app.state.pool, caller, request) as conn:
            row = imports.create(
                conn, person_id=person_id, file_name=uploads.safe_name(name), start_hint=start
            )
            target = uploads.place(incoming, settings.upload_dir, person_id, row["id"], name)
            imports.set_stored_path(conn, row["id"], str(target))
            # A worker runs the import; the caller follows it on GET /v1/imports/{id}.
            enqueue(
                conn,
                "import",
                {"import_id": row["id"], "format": format, "start": start.isoformat() if start else None},
                person_id=person_id,
            )
            return _record(conn, returned(imports.get(conn, row["id"])))
    except BaseException:
        if target is not None:
            uploads.discard(target)
        raise


@router.get("/v1/persons/{person_id}/imports", response_model=ImportPage)
def list_imports(
    person_id: UUID,
    conn: Db,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor_: Annotated[str | None, Query(alias="cursor")] = None,
) -> ImportPage:
    """A person's imports, newest first."""
    person_or_404(conn, caller, str(person_id), authz.READ_OBSERVATIONS)
    before = cursor.decode(cursor_, cursor.INT)[0] if cursor_ else None
    rows = imports.list_for_person(conn, str(person_id), limit=limit, before_id=before)
    next_cursor = cursor.encode([rows[-1]["id"]]) if len(rows) == limit else None
    return ImportPage(items=[_record(conn, r) for r in rows], next_cursor=next_cursor)


@router.get("/v1/imports/{import_id}", response_model=ImportRecord)
def get_import(import_id: int, conn: Db, caller: Caller) -> ImportRecord:
    """One import, with its progress while it runs."""
    row = imports.get(conn, import_id)  # row-level security hides other persons' imports
    if row is None:
        raise ProblemError(404, "not-found", f"no import {import_id} visible to this token")
    person_or_404(conn, caller, str(row["person_id"]), authz.READ_OBSERVATIONS)
    return _record(conn, row)
