"""The one import pipeline: every way a file comes in ends here.

An API upload, ``vagus import``, the inbox and the demo all create a ledger row
with :func:`register` and then run it with :func:`run_import` (directly, or
through the ``import`` job). ``run_import`` detects or takes the connector,
loads everything in one transaction (all or nothing; see ``loader``), finishes
the ledger row, and then does what follows any import: marks the person changed
so the recompute job refreshes their responses and evidence, emits
``import.completed`` / ``import.failed`` to subscribed apps, and files an inbox
file away into ``processed/`` or ``failed/``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from connectors import ConnectorError, ReadContext, ReadReport, SampleBatch
from connectors.base import Connector
from connectors.registry import detect, get_connector
from service.core.db import person_lock, rls
from service.core.db.types import Conn, Pool
from service.imports import inbox, uploads
from service.imports import repository as ledger
from service.imports.loader import Loader
from service.jobs import repository as job_repo
from service.webhooks import service as webhooks

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.0
#: How each way in lets a caller name the format when detection fails.
FORMAT_CHOICE = {
    "cli": "pass --format NAME",
    "api": "pass ?format=NAME",
    "inbox": "import it with `vagus import --format NAME`",
}
#: Why an empty file is refused, worded the same by the API, the CLI and the inbox.
EMPTY_FILE = "empty file (0 bytes): nothing to import"

ProgressCallback = Callable[[int, int | None], None]
#: Asked during an import: why its job attempt must stop now (its lease was lost), or None.
StopCheck = Callable[[], str | None]


class ImportStopped(Exception):
    """The import must not finish: its person is being erased, or its job moved elsewhere.

    Raised inside the data transaction, which then rolls back: nothing is committed.
    ``job_lost``: the attempt lost its job, so the ledger row is the new owner's to write.
    """

    def __init__(self, reason: str, *, job_lost: bool = False) -> None:
        super().__init__(reason)
        self.job_lost = job_lost


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
    #: Stopped by erasure or a lost lease: nothing was committed, nothing follows.
    stopped: bool = False

    @classmethod
    def from_record(cls, row: dict[str, Any]) -> ImportOutcome:
        return cls(
            import_id=row["id"],
            status=row["status"],
            read=row["read"],
            inserted=row["inserted"],
            duplicates=row["duplicates"],
            rejected=row["rejected"],
            rejected_reasons=dict(row["rejected_reasons"] or {}),
            error=row["error"],
        )


def register(
    conn: Conn,
    *,
    person_id: str,
    file_name: str,
    stored_path: Path | None = None,
    start_hint: dt.datetime | None = None,
) -> dict[str, Any]:
    """A new ``queued`` ledger row for a file that :func:`run_import` will read."""
    return ledger.create(
        conn,
        person_id=person_id,
        file_name=file_name,
        stored_path=str(stored_path) if stored_path else None,
        start_hint=start_hint,
    )


def run_import(
    pool: Pool,
    import_id: int,
    path: Path | None = None,
    *,
    format_name: str | None = None,
    start: dt.datetime | None = None,
    on_progress: ProgressCallback | None = None,
    connector: Connector | None = None,
    from_inbox: bool = False,
    via: str = "cli",
    should_stop: StopCheck | None = None,
    job: dict[str, Any] | None = None,
) -> ImportOutcome:
    """Run one registered import to its end, with everything that follows an import.

    ``path`` defaults to the row's stored file. The connector is ``connector`` when
    given (generated data in benchmarks), else the one named by ``format_name``,
    else detected from the content. Never raises for bad input: the outcome is
    ``completed`` or ``failed`` with the reason, naming the file and line where the
    connector could. Database outages propagate (``psycopg.OperationalError``) so
    that a job runner can retry; a retry after a crash starts the file over, and
    one after the import committed only repeats the (idempotent) follow-ups.
    ``via`` (``cli``, ``api``, ``inbox``) words the hint for choosing a format.

    The import stops without committing (outcome ``failed``, no follow-ups) when its
    person's erasure is waiting, when ``should_stop`` gives a reason, or, for a queued
    ``job``, when that attempt no longer owns the job at commit time.
    """
    with rls.system_connection(pool) as conn:
        record = ledger.get(conn, import_id)
        if record is None:
            raise LookupError(f"import {import_id} does not exist")
        if record["status"] != "completed":
            ledger.reset_progress(conn, import_id)
    if path is None:
        path = Path(record["stored_path"])
    if record["status"] == "completed":
        outcome = ImportOutcome.from_record(record)
    else:
        outcome = _load(
            pool,
            record,
            path,
            format_name=format_name,
            start=start,
            on_progress=on_progress,
            connector=connector,
            format_choice=FORMAT_CHOICE["inbox" if from_inbox else via],
            should_stop=should_stop,
            job=job,
        )
        if outcome.stopped:
            return outcome  # erased or taken over: whoever goes on does the follow-ups
    _follow_up(pool, import_id, path if from_inbox else None)
    return outcome


def _load(
    pool: Pool,
    record: dict[str, Any],
    path: Path,
    *,
    format_name: str | None,
    start: dt.datetime | None,
    on_progress: ProgressCallback | None,
    connector: Connector | None,
    format_choice: str,
    should_stop: StopCheck | None,
    job: dict[str, Any] | None,
) -> ImportOutcome:
    import_id = record["id"]
    person_id = str(record["person_id"])
    with pool.connection() as progress_conn:
        progress_conn.autocommit = True
        # Both connections act for the import's person only (row-level security).
        rls.act_for_person(progress_conn, person_id)
        tz = ledger.person_tz(progress_conn, person_id)
        started = time.monotonic()
        try:
            digest, size = uploads.sha256_of(path)
            if size == 0 and path.is_file():
                return _fail(progress_conn, import_id, f"{path}: {EMPTY_FILE}", path)
            if connector is None:
                connector = get_connector(format_name) if format_name else detect(path)
        except (ConnectorError, OSError) as exc:
            return _fail(
                progress_conn, import_id, _with_format_choice(_describe(path, exc), format_choice), path
            )
        ledger.mark_running(
            progress_conn, import_id, connector=connector.name, sha256=digest, size_bytes=size
        )
        report = ReadReport()
        ctx = ReadContext(start=_aware(start, tz), tz=tz)
        try:
            with pool.connection() as data_conn:
                with data_conn.transaction():
                    rls.act_for_person(data_conn, person_id)
                    # Shared with other imports, exclusive for erasure (person_lock).
                    person_lock.share(data_conn, person_id)
                    stop = _stop_check(progress_conn, person_id, should_stop)
                    loader = Loader(data_conn, person_id, import_id)
                    report.on_progress = _progress_writer(progress_conn, import_id, loader, on_progress, stop)
                    for item in connector.read(path, ctx, report):
                        if isinstance(item, SampleBatch):
                            loader.add_samples(item)
                        else:
                            loader.add_episode(item)
                    loader.finish()
                    if loader.staged == 0:
                        # Every sample was dropped (e.g. all timestamps outside 1990..now):
                        # a failure with the reasons, not a success with 0 rows.
                        reasons = ", ".join(f"{n} {why}" for why, n in loader.invalid.items() if n)
                        raise ConnectorError(path, "nothing storable" + (f": {reasons}" if reasons else ""))
                    stop()
                    if job is not None and not job_repo.hold_for_commit(data_conn, job):
                        raise ImportStopped(f"job {job['id']} is no longer this attempt's", job_lost=True)
                    outcome = _outcome(import_id, loader, report)
                    ledger.finish(
                        data_conn,
                        import_id,
                        outcome=outcome,
                        report=report,
                        seconds=time.monotonic() - started,
                    )
        except ImportStopped as exc:
            log.warning("import %s stopped without committing: %s", import_id, exc)
            outcome = ImportOutcome(
                import_id=import_id, status="failed", error=f"stopped: {exc}", stopped=True
            )
            if not exc.job_lost:
                _fail_quietly(progress_conn, import_id, outcome.error or "stopped")
            return outcome
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


def _stop_check(conn: Conn, person_id: str, should_stop: StopCheck | None) -> Callable[[], None]:
    """Raises :class:`ImportStopped` when the person's erasure waits or the job was lost."""

    def check() -> None:
        if person_lock.exclusive_requested(conn, person_id):
            raise ImportStopped("the person is being erased")
        if should_stop is not None and (reason := should_stop()) is not None:
            raise ImportStopped(reason, job_lost=True)

    return check


def _follow_up(pool: Pool, import_id: int, inbox_file: Path | None) -> None:
    """What follows every import: recompute, the apps' webhook, the inbox file filed away."""
    # Finding subscribers reads other accounts' rows: a system read.
    with rls.system_connection(pool) as conn:
        row = ledger.get(conn, import_id)
        if row is None:
            return  # erased meanwhile: nothing to tell anyone
        person_id = str(row["person_id"])
        if row["status"] == "completed" and row["inserted"] > 0:
            job_repo.mark_person_changed(conn, person_id, import_id)
        event = "import.completed" if row["status"] == "completed" else "import.failed"
        webhooks.emit(
            conn,
            event,
            person_id=person_id,
            subject=f"import:{import_id}",
            data=webhooks.import_event_data(row),
        )
    if inbox_file is not None:
        inbox.file_away(inbox_file, row)


def _progress_writer(
    conn: Conn, import_id: int, loader: Loader, also: ProgressCallback | None, stop: Callable[[], None]
) -> Callable[[ReadReport], None]:
    """A throttled callback that stops the import when it must, else writes bytes and
    records read so far to the import row."""
    last = [0.0]

    def write(report: ReadReport) -> None:
        if also is not None:
            also(report.bytes_read, report.bytes_total)
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            # Checked before writing: the write could queue behind erasure's row locks.
            stop()
            ledger.update_progress(
                conn,
                import_id,
                bytes_read=report.bytes_read,
                bytes_total=report.bytes_total,
                read=loader.staged + loader.pending + sum(report.rejected.values()),
            )

    return write


def _outcome(import_id: int, loader: Loader, report: ReadReport) -> ImportOutcome:
    reasons = Counter(report.rejected)
    reasons.update({k: v for k, v in loader.invalid.items() if v})
    rejected = sum(reasons.values())
    return ImportOutcome(
        import_id=import_id,
        status="completed",
        read=loader.staged + rejected,
        inserted=loader.inserted,
        duplicates=loader.staged - loader.inserted,
        rejected=rejected,
        rejected_reasons=dict(reasons),
    )


def _aware(moment: dt.datetime | None, tz: str) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=ZoneInfo(tz))
    return moment


def _with_format_choice(reason: str, choice: str) -> str:
    """The detection failure with this way in's own hint. The connector's message ends with
    the command line's (``pass --format``); an upload's caller needs ``?format=``."""
    if "format not recognised" not in reason:
        return reason
    reason = reason.replace(" (pass --format to choose one explicitly)", "")
    return f"{reason} ({choice} to choose one explicitly)"


def _describe(path: Path, exc: BaseException) -> str:
    if isinstance(exc, ConnectorError):
        return str(exc)
    return f"{path}: {type(exc).__name__}: {exc}"


def _fail(conn: Conn, import_id: int, reason: str, path: Path | None = None) -> ImportOutcome:
    if path is not None:
        # Name the file as the user knows it, not by where the server keeps it.
        reason = reason.replace(str(path.parent) + "/", "")
    ledger.fail(conn, import_id, reason)
    return ImportOutcome(import_id=import_id, status="failed", error=reason)


def _fail_quietly(conn: Conn, import_id: int, reason: str) -> None:
    try:
        ledger.fail(conn, import_id, reason)
    except psycopg.Error:
        pass  # the database is gone; the job runner will retry the import
