"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real third-party wearable files, present only in this workplace."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real third-party files not available: {SHARED_DATA} is absent "
                    "(a checkout outside the Vagus workplace)")
    return SHARED_DATA
