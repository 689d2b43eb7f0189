"""Where uploaded files are kept: ``VAGUS_DATA_DIR/uploads/<person>/<import>/<name>``."""

from __future__ import annotations

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
