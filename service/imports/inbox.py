"""Inbox folders: exports dropped into ``VAGUS_INBOX/<person-id>/`` are imported.

A phone automation or a sync client writes files there, possibly slowly, so
a file is taken only once its size and modification time are the same on two
scans (scans are the ``inbox_sync`` job, every minute). Taking a file is an
atomic rename into ``<person-id>/.importing/``: of several workers scanning the
same shared folder, one wins. The file's SHA-256 is then checked against the
import ledger; content already imported (or queued) for this person is not
imported again and goes straight to ``processed/`` with a ``.duplicate.txt``
note. Otherwise an ``import`` job is queued, and when it ends the file moves to
``processed/``, or to ``failed/`` with a ``.error.txt`` giving the reason.

Hidden files (sync clients' partial downloads) and sub-folders are ignored.
Symbolic links are never followed: a person folder that is a link is skipped, and
a link (or anything but a regular file) in a person's folder is refused and
counted, so nothing outside the person's own folder is ever imported for them.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from service.access.repository import persons
from service.core.db.types import Pool
from service.core.settings import Settings
from service.imports import repository as ledger
from service.imports import uploads
from service.jobs.context import job_connection_setup
from service.jobs.queue import enqueue

log = logging.getLogger(__name__)

CLAIMED = ".importing"
PROCESSED = "processed"
FAILED = "failed"
#: A claimed file with no import after this long was orphaned by a crash mid-claim.
ORPHAN_AFTER_S = 600


@dataclass
class SyncReport:
    seen: int = 0
    waiting: int = 0
    queued: int = 0
    duplicates: int = 0
    skipped_folders: int = 0
    links_refused: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sync(pool: Pool, settings: Settings) -> SyncReport:
    """One scan of the inbox: remember sizes, take files that stopped growing."""
    report = SyncReport()
    root = settings.inbox_dir
    if not root.is_dir():
        return report
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        person_id = _person_id(pool, folder.name)
        if person_id is None or folder.is_symlink():
            report.skipped_folders += 1
            continue
        _recover_orphans(pool, folder)
        for path in sorted(p for p in folder.iterdir() if p.is_file() or p.is_symlink()):
            if path.name.startswith("."):
                continue
            if not uploads.regular_file(path, inside=folder):
                log.warning("inbox: %s is a link or no regular file; not imported", path)
                report.links_refused += 1
                continue
            report.seen += 1
            if not _stable(pool, path):
                report.waiting += 1
                continue
            outcome = _take(pool, person_id, path)
            if outcome == "queued":
                report.queued += 1
            elif outcome == "duplicate":
                report.duplicates += 1
    return report


def _person_id(pool: Pool, name: str) -> str | None:
    try:
        person_id = str(uuid.UUID(name))
    except ValueError:
        return None
    with pool.connection() as conn:
        job_connection_setup(conn, person_id)
        if persons.get(conn, person_id) is None:
            log.warning("inbox folder %s names no person; ignored", name)
            return None
    return person_id


def _stable(pool: Pool, path: Path) -> bool:
    """True when the file looks the same as on the previous scan; records what it saw."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    with pool.connection() as conn:
        job_connection_setup(conn)
        return ledger.inbox_file_seen(conn, str(path), size_bytes=st.st_size, mtime_ns=st.st_mtime_ns)


def _take(pool: Pool, person_id: str, path: Path) -> str:
    """Claim a stable file and queue its import; 'queued', 'duplicate' or 'lost'."""
    claimed = _free_name(path.parent / CLAIMED, path.name)
    claimed.parent.mkdir(exist_ok=True)
    try:
        os.rename(path, claimed)  # atomic: exactly one scanner wins the file
    except FileNotFoundError:
        return "lost"
    if not uploads.regular_file(claimed, inside=path.parent):  # swapped for a link meanwhile
        log.warning("inbox: %s became a link before it was taken; refused", path)
        claimed.unlink(missing_ok=True)
        return "lost"
    digest, size = uploads.sha256_of(claimed)
    with pool.connection() as conn:
        job_connection_setup(conn, person_id)
        ledger.forget_inbox_file(conn, str(path))
        earlier = ledger.same_content(conn, person_id, digest)
        if earlier is None:
            row = ledger.create(
                conn, person_id=person_id, file_name=uploads.safe_name(path.name), stored_path=str(claimed)
            )
            ledger.set_content(conn, row["id"], sha256=digest, size_bytes=size)
            enqueue(conn, "import", {"import_id": row["id"], "inbox": True}, person_id=person_id)
            log.info("inbox: %s queued as import %s", path, row["id"])
            return "queued"
    target = _move(claimed, path.parent / PROCESSED, path.name)
    target.with_name(target.name + ".duplicate.txt").write_text(
        f"Not imported again: the same content was already imported as import {earlier}.\n"
    )
    return "duplicate"


def file_away(claimed: Path, record: dict[str, Any]) -> Path | None:
    """After its import: move a claimed inbox file to processed/ or failed/ (+ .error.txt)."""
    if not claimed.exists():
        return None  # an earlier run of this job moved it already
    person_folder = claimed.parent.parent
    name = record["file_name"]
    if record["status"] == "completed":
        return _move(claimed, person_folder / PROCESSED, name)
    target = _move(claimed, person_folder / FAILED, name)
    target.with_name(target.name + ".error.txt").write_text(
        f"{record['error'] or 'import failed'}\n(import {record['id']})\n"
    )
    return target


def _recover_orphans(pool: Pool, folder: Path) -> None:
    """Claimed files whose import was never created go back to the inbox."""
    claimed_dir = folder / CLAIMED
    if not claimed_dir.is_dir():
        return
    for path in claimed_dir.iterdir():
        if time.time() - path.stat().st_ctime < ORPHAN_AFTER_S:
            continue
        with pool.connection() as conn:
            job_connection_setup(conn)
            known = ledger.has_stored_path(conn, str(path))
        if not known:
            _move(path, folder, path.name)


def _move(path: Path, folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, name)
    os.replace(path, target)
    return target


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/stem-2.ext`` etc. when taken."""
    candidate = folder / name
    n = 2
    while candidate.exists():
        stem, dot, ext = name.partition(".")
        candidate = folder / f"{stem}-{n}{dot}{ext}"
        n += 1
    return candidate
