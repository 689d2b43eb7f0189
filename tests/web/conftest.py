"""A live Vagus server on localhost and a headless Chromium driven by Playwright.

The browser is Debian's ``chromium`` (``apt-get install -y chromium``) launched
through Playwright for Python with ``executable_path``; Playwright's own browser
download is never used. Without Chromium or Playwright the browser tests skip
with the reason, unless ``VAGUS_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which
turns that skip into a failure. ``VAGUS_CHROMIUM`` names another Chromium executable.

The server runs in this process (uvicorn in a thread) on its own migrated
database, with the job worker on, so uploads are imported as in production.
Screenshots go to ``tests/web/artifacts/`` (git-ignored); page timings are
printed at the end of the run.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
#: Chromium as root in a container with a closed network (see the machine notes):
#: no sandbox, no GPU, and none of its own background connections.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
TIMINGS: list[tuple[str, float, str]] = []


def record_timing(what: str, ms: float, note: str = "") -> None:
    """A measured figure for docs/benchmarks.md: printed at the end, never asserted."""
    TIMINGS.append((what, ms, note))


def pytest_terminal_summary(terminalreporter) -> None:
    if not TIMINGS:
        return
    terminalreporter.section("web timings (headless Chromium, this machine; not asserted)")
    for what, ms, note in TIMINGS:
        terminalreporter.write_line(f"{what:<52} {ms:>9.1f} ms  {note}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "timings.json").write_text(
        json.dumps([{"what": w, "ms": round(ms, 1), "note": n} for w, ms, n in TIMINGS], indent=2)
    )


def _unavailable(reason: str):
    if os.environ.get("VAGUS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (VAGUS_REQUIRE_BROWSER=1) but {reason}", pytrace=False)
    pytest.skip(
        f"browser tests need Chromium and Playwright: {reason} "
        "(apt-get install -y chromium; pip install -e '.[dev]')"
    )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    # Another build of Chromium, or a missing path (to see the skip).
    chosen = os.environ.get("VAGUS_CHROMIUM")
    candidates = (chosen,) if chosen else CHROMIUM_CANDIDATES
    path = next((p for p in candidates if Path(p).exists()), None)
    if path is None and not chosen:
        path = shutil.which("chromium")
    if path is None:
        _unavailable(f"no Chromium executable (looked for {', '.join(candidates)})")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@dataclass
class LiveServer:
    url: str
    pool: object
    settings: object
    thread: threading.Thread
    server: object
    extra: dict = field(default_factory=dict)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(databases, tmp_path_factory, chromium_path) -> Iterator[LiveServer]:
    """``vagus serve`` in a thread: API, pages and one job worker, on a database of its own
    (its worker must not pick up jobs other tests queue on the shared test database)."""
    import uvicorn

    from service.app import create_app
    from service.core.db import migrate
    from service.core.db.connect import create_pool
    from service.core.settings import Settings

    url = databases.create()
    migrate.upgrade(url, REPO_ROOT / "migrations")
    settings = Settings(
        database_url=url,
        data_dir=tmp_path_factory.mktemp("vagus-web-data"),
        migrations_dir=REPO_ROOT / "migrations",
    )
    pool = create_pool(url, 8)
    app = create_app(settings, pool=pool, background=True)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="vagus-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", pool, settings, thread, server)
    server.should_exit = True
    thread.join(timeout=30)
    pool.close()


@pytest.fixture
def context(browser):
    """A fresh browser profile (no cookies) per test; phone-sized contexts are made by tests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def shot(page, name: str, full_page: bool = True) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
