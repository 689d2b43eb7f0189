"""`vagus trial plan|show|list`: the script contract, run as a real subprocess."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture
def cli(database_url: str, tmp_path: Path):
    env = {**os.environ, "VAGUS_DATABASE_URL": database_url, "VAGUS_DATA_DIR": str(tmp_path)}

    def run(*args: str, as_json: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "service.cli", *args, *(["--json"] if as_json else [])],
            env=env,
            check=False,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=120,
        )

    return run


@pytest.fixture
def vagus(cli):
    def run(*args: str) -> dict:
        result = cli(*args)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1, result.stdout  # exactly one JSON object
        return json.loads(lines[0])

    return run


@pytest.fixture
def person(vagus) -> str:
    return vagus("person", "create", "--name", "Cli trial", "--tz", "Asia/Tokyo")["id"]


def test_trial_plan_contract(vagus, person):
    plan = vagus(
        "trial",
        "plan",
        "--person",
        person,
        "--weeks",
        "6",
        "--per-week",
        "2",
        "--rest-share",
        "0.5",
        "--seed",
        "9",
    )
    assert isinstance(plan["plan_id"], int)
    assert len(plan["sessions"]) == 12
    assert Counter(s["kind"] for s in plan["sessions"]) == {"massage": 6, "rest": 6}
    now = dt.datetime.now(dt.UTC)
    for s in plan["sessions"]:
        assert set(s) >= {"start", "end", "kind", "start_local", "end_local"}
        assert dt.datetime.fromisoformat(s["start"]) > now
        assert s["start_local"].endswith("+09:00")
    power = plan["power"]
    assert set(power) >= {"value", "effect_ln_rmssd", "sd_source", "sd", "n_massage", "n_rest", "method"}
    assert power["sd_source"] == "literature" and (power["n_massage"], power["n_rest"]) == (6, 6)
    for arm in ("massage", "rest"):
        days = Counter(s["weekday"] for s in plan["sessions"] if s["kind"] == arm)
        assert max(days.values()) - min(days.values()) <= 1
    again = vagus("trial", "plan", "--person", person, "--weeks", "6", "--per-week", "2", "--seed", "9")
    assert [(s["start"], s["kind"]) for s in again["sessions"]] == [
        (s["start"], s["kind"]) for s in plan["sessions"]
    ]
    shown = vagus("trial", "show", str(plan["plan_id"]))
    assert shown["sessions"] == plan["sessions"] and shown["adherence"]["plan_id"] == plan["plan_id"]
    listed = vagus("trial", "list", "--person", person)
    assert [p["plan_id"] for p in listed["trial_plans"]] == [plan["plan_id"], again["plan_id"]]


def test_trial_plan_without_seed_reports_the_seed_drawn(vagus, person):
    plan = vagus(
        "trial",
        "plan",
        "--person",
        person,
        "--weeks",
        "2",
        "--per-week",
        "3",
        "--rest-share",
        "0.34",
        "--time",
        "07:00",
        "--duration",
        "30",
    )
    assert isinstance(plan["seed"], int) and plan["time_of_day"] == "07:00"
    assert plan["power"]["n_rest"] == 2 and plan["power"]["n_massage"] == 4


def test_human_output_and_refusals(cli, person):
    human = cli(
        "trial", "plan", "--person", person, "--weeks", "2", "--per-week", "2", "--seed", "1", as_json=False
    )
    assert human.returncode == 0, human.stderr
    assert human.stdout.startswith("trial plan ") and "power" in human.stdout
    for args, flag in (
        (("--weeks", "0", "--per-week", "2"), "--weeks"),
        (("--weeks", "2", "--per-week", "2", "--rest-share", "1.5"), "--rest-share"),
        (("--weeks", "2", "--per-week", "2", "--weekdays", "mon"), "--weekdays"),
        (("--weeks", "2", "--per-week", "2", "--start-date", "2001-01-01"), "--start-date"),
    ):
        refused = cli("trial", "plan", "--person", person, *args)
        assert refused.returncode == 2 and refused.stdout == "", refused.stdout
        assert flag in refused.stderr, refused.stderr
    missing = cli("trial", "show", "999999")
    assert missing.returncode == 2 and "no trial plan" in missing.stderr
