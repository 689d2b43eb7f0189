"""Imported files on disk: where uploads are kept (``VAGUS_DATA_DIR/uploads/<person>/<import>/<name>``)
and what their content is (SHA-256).

Nothing here follows a symbolic link: folders are checked component by component
(``lstat``) to be real directories inside the upload root, files are created new
with ``O_NOFOLLOW``, and hashing opens with ``O_NOFOLLOW`` too, so a link planted
in a person's folder can never make one person's import read another's file
(issue 16, defect 6).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import uuid
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file name without directories or surprising characters (never empty)."""
    base = Path(name.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip("._") or "upload"
    return cleaned[:120]


class UnsafePath(OSError):
    """A path that is a link, or leads outside the folder it must stay in."""


def real_folder(root: Path, *parts: str) -> Path:
    """``root/parts...``, created as needed, every component a real directory (no link)."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root
    for part in parts:
        if part in ("", ".", "..") or "/" in part:
            raise UnsafePath(f"{part!r} is not a plain folder name")
        folder = folder / part
        try:
            folder.mkdir()
        except FileExistsError:
            pass
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            raise UnsafePath(f"{folder} is not a real folder (a link?)")
    return folder


def regular_file(path: Path, *, inside: Path | None = None) -> bool:
    """True for a regular file that is no link (and, with ``inside``, resolves within it)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
    except OSError:
        return False
    if inside is not None:
        return path.resolve().is_relative_to(inside.resolve())
    return True


def path_for(upload_dir: Path, person_id: str, import_id: int, name: str) -> Path:
    return real_folder(upload_dir, person_id, str(import_id)) / safe_name(name)


def incoming_path(upload_dir: Path, person_id: str) -> Path:
    """A fresh name for an upload being received (moved to :func:`path_for` once registered)."""
    return real_folder(upload_dir, person_id, ".incoming") / uuid.uuid4().hex


def place(incoming: Path, upload_dir: Path, person_id: str, import_id: int, name: str) -> Path:
    """Move a received upload to its import's folder (a rename: same file system)."""
    target = path_for(upload_dir, person_id, import_id, name)
    os.rename(incoming, target)
    return target


def discard(path: Path) -> None:
    """Remove a stored upload and its import folder, if it exists."""
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:
        pass  # not empty, or already gone


def remove_person(upload_dir: Path, person_id: str) -> None:
    shutil.rmtree(upload_dir / person_id, ignore_errors=True)


def sha256_of(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file or, for a folder, of its files in name order."""
    digest = hashlib.sha256()
    size = 0
    files = sorted(p for p in path.rglob("*") if regular_file(p)) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        # Inside a folder, links are not followed (the top path is the caller's to check).
        flags = os.O_RDONLY | (os.O_NOFOLLOW if path.is_dir() else 0)
        with os.fdopen(os.open(file, flags), "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    return digest.hexdigest(), size
