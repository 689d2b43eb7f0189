"""Imported files on disk: where uploads are kept (``VAGUS_DATA_DIR/uploads/<person>/<import>/<name>``)
and what their content is (SHA-256)."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    """A file name without directories or surprising characters (never empty)."""
    base = Path(name.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip("._") or "upload"
    return cleaned[:120]


def path_for(upload_dir: Path, person_id: str, import_id: int, name: str) -> Path:
    folder = upload_dir / person_id / str(import_id)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / safe_name(name)


def remove_person(upload_dir: Path, person_id: str) -> None:
    shutil.rmtree(upload_dir / person_id, ignore_errors=True)


def sha256_of(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file or, for a folder, of its files in name order."""
    digest = hashlib.sha256()
    size = 0
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    return digest.hexdigest(), size
