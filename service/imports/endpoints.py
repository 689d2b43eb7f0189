"""Uploading exports and following their imports."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile as StarletteUploadFile

from service.access import authz
from service.access.deps import Caller, Db, person_or_404, scoped_connection
from service.core.db.types import Conn, Row, returned
from service.core.http import cursor
from service.core.http.openapi import LOCATION
from service.core.http.problems import PROBLEM_RESPONSES, ProblemError
from service.imports import repository as imports
from service.imports import uploads
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
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}}}},
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
    return ImportRecord(**{k: v for k, v in row.items() if k != "stored_path"}, same_file_as=same,
                        progress=progress)


async def _body(request: Request, filename: str | None) -> tuple[AsyncIterator[bytes], str]:
    """The uploaded bytes and the file's name: the raw body, or a multipart ``file`` part.

    A raw body streams straight to disk; a multipart form (``curl -F file=@export.zip``)
    is spooled by Starlette to a temporary file first, then copied.
    """
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        if not filename:
            raise ProblemError(422, "validation-error",
                               "filename: required with a raw-body upload (?filename=export.zip)")
        return request.stream(), filename
    form = await request.form(max_files=1, max_fields=10)
    part = form.get("file")
    if not isinstance(part, StarletteUploadFile):
        raise ProblemError(422, "validation-error",
                           "file: a multipart upload needs its file in a part named 'file'")

    async def read() -> AsyncIterator[bytes]:
        while chunk := await part.read(1 << 20):
            yield chunk

    return read(), filename or part.filename or "upload"


@router.post("/v1/persons/{person_id}/imports", response_model=ImportRecord, status_code=202,
             openapi_extra=_UPLOAD_BODY, responses={202: LOCATION})
async def upload(
    person_id: UUID, request: Request, caller: Caller,
    filename: Annotated[str | None, Query(
        min_length=1, max_length=255,
        description="The file's name (its extension helps detection); required for a raw body, "
                    "taken from the file part of a multipart upload otherwise.")] = None,
    format: Annotated[str | None, Query(description="Skip detection: the connector to use.")] = None,
    start: Annotated[dt.datetime | None, Query(
        description="Recording start, for files without absolute times (plain RR lists).")] = None,
) -> JSONResponse:
    """Upload an export as the raw body; it is stored and queued, and its record returned.

    The answer comes at once with status `queued`; a worker imports the file,
    and `GET /v1/imports/{id}` shows its progress (bytes and records so far)
    and outcome. Re-uploading the same file inserts nothing (every row is reported as a
    duplicate) and `same_file_as` names the earlier import.
    """
    app = request.app
    settings = app.state.settings
    pool = app.state.pool
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes:
        raise ProblemError(413, "upload-too-large",
                           f"the upload limit is {settings.max_upload_bytes} bytes")
    with scoped_connection(pool, caller, request) as conn:
        person_or_404(conn, caller, str(person_id), authz.WRITE_IMPORTS)
    chunks, filename = await _body(request, filename)
    with scoped_connection(pool, caller, request) as conn:
        row = imports.create(conn, person_id=str(person_id), file_name=uploads.safe_name(filename),
                             start_hint=start)
        conn.commit()
    target = uploads.path_for(settings.upload_dir, str(person_id), row["id"], filename)
    received = 0
    try:
        with target.open("wb") as out:
            async for chunk in chunks:
                received += len(chunk)
                if received > settings.max_upload_bytes:
                    raise ProblemError(413, "upload-too-large",
                                       f"the upload limit is {settings.max_upload_bytes} bytes")
                out.write(chunk)
    except BaseException as exc:
        target.unlink(missing_ok=True)
        reason = str(exc) if isinstance(exc, ProblemError) else "upload interrupted"
        with scoped_connection(pool, caller, request) as conn:
            imports.fail(conn, row["id"], f"{filename}: {reason}")
        raise
    if received == 0:
        # Worded as `vagus import` words an empty file (service.imports.service.EMPTY_FILE).
        with scoped_connection(pool, caller, request) as conn:
            imports.fail(conn, row["id"], f"{filename}: {EMPTY_FILE}")
        raise ProblemError(400, "empty-file", f"{filename}: {EMPTY_FILE} (the request body is "
                                              "empty: send the file itself)")
    with scoped_connection(pool, caller, request) as conn:
        imports.set_stored_path(conn, row["id"], str(target))
        # A worker runs the import; the caller follows it on GET /v1/imports/{id}.
        enqueue(conn, "import", {"import_id": row["id"], "format": format,
                                 "start": start.isoformat() if start else None})
    with scoped_connection(pool, caller, request) as conn:
        record = _record(conn, returned(imports.get(conn, row["id"])))
    return JSONResponse(record.model_dump(mode="json"), status_code=202,
                        headers={"Location": f"/v1/imports/{row['id']}"})


@router.get("/v1/persons/{person_id}/imports", response_model=ImportPage)
def list_imports(person_id: UUID, conn: Db, caller: Caller,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50,
                 cursor_: Annotated[str | None, Query(alias="cursor")] = None) -> ImportPage:
    """A person's imports, newest first."""
    person_or_404(conn, caller, str(person_id), authz.READ_OBSERVATIONS)
    before = int(cursor.decode(cursor_, 1)[0]) if cursor_ else None
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
