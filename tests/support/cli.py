"""Run `vagus` in-process (no subprocess start-up per call) against the test database."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass

import pytest


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        lines = self.stdout.strip().splitlines()
        assert len(lines) == 1, self.stdout  # exactly one JSON object
        return json.loads(lines[0])


@pytest.fixture
def vagus_in_process(database_url, tmp_path, monkeypatch, capsys):
    """``run(*argv) -> Result``: the exit code and what was printed."""
    from service.core import settings as settings_module

    cli_main = importlib.import_module("service.cli.main")
    monkeypatch.setenv("VAGUS_DATABASE_URL", database_url)
    monkeypatch.setenv("VAGUS_DATA_DIR", str(tmp_path))
    settings_module.get_settings.cache_clear()

    def run(*argv: str) -> Result:
        capsys.readouterr()
        try:
            code = cli_main.main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    yield run
    settings_module.get_settings.cache_clear()
