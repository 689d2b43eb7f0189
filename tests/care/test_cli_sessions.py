"""`vagus session|report|lab`: the script contract, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture
def cli(database_url: str, tmp_path: Path):
    env = {**os.environ, "VAGUS_DATABASE_URL": database_url, "VAGUS_DATA_DIR": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "service.cli", *args, "--json"],
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
def refused(cli):
    """Run a command that must fail as a usage error; its stderr."""

    def run(*args: str) -> str:
        result = cli(*args)
        assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
        assert result.stdout == ""
        return result.stderr

    return run


@pytest.fixture
def person(vagus) -> str:
    return vagus("person", "create", "--name", "Cli care", "--tz", "Europe/Berlin")["id"]


def test_session_add_list_delete(vagus, person):
    session = vagus(
        "session",
        "add",
        "--person",
        person,
        "--start",
        "2024-05-04T10:00:00",
        "--end",
        "2024-05-04T11:00:00",
        "--modality",
        "Deep tissue",
        "--pressure",
        "moderate",
        "--body-areas",
        "neck, upper back",
        "--notes",
        "first visit",
    )
    assert isinstance(session["id"], int)
    assert session["start"] == "2024-05-04T08:00:00Z"
    assert session["start_local"] == "2024-05-04T10:00:00+02:00"
    assert (session["modality"], session["pressure"], session["body_areas"]) == (
        "deep_tissue",
        "moderate",
        ["neck", "upper_back"],
    )
    second = vagus(
        "session",
        "add",
        "--person",
        person,
        "--start",
        "2024-05-11T10:00:00+02:00",
        "--end",
        "2024-05-11T11:30:00+02:00",
        "--modality",
        "swedish",
        "--pressure",
        "light",
    )
    listed = vagus("session", "list", "--person", person)
    assert [s["id"] for s in listed["sessions"]] == [session["id"], second["id"]]
    assert listed["count"] == 2
    later = vagus("session", "list", "--person", person, "--from", "2024-05-05")
    assert [s["id"] for s in later["sessions"]] == [second["id"]]
    assert vagus("session", "delete", str(session["id"])) == {"id": session["id"], "deleted": True}
    assert [s["id"] for s in vagus("session", "list", "--person", person)["sessions"]] == [second["id"]]


def test_session_refusals_name_the_flag(refused, vagus, person):
    base = ["session", "add", "--person", person, "--modality", "swedish", "--pressure", "light"]
    assert "--end" in refused(*base, "--start", "2024-05-04T10:00", "--end", "2024-05-04T09:00")
    assert "--end" in refused(*base, "--start", "2024-05-04T10:00", "--end", "2024-05-04T17:00")
    assert "does not exist" in refused(*base, "--start", "2024-03-31T02:30", "--end", "2024-03-31T04:00")
    assert "--modality" in refused(
        "session",
        "add",
        "--person",
        person,
        "--modality",
        "reiki",
        "--pressure",
        "light",
        "--start",
        "2024-05-04T10:00",
        "--end",
        "2024-05-04T11:00",
    )
    assert "--body-areas" in refused(
        *base, "--start", "2024-05-04T10:00", "--end", "2024-05-04T11:00", "--body-areas", "tail"
    )
    assert "--therapist" in refused(
        *base,
        "--start",
        "2024-05-04T10:00",
        "--end",
        "2024-05-04T11:00",
        "--therapist",
        "00000000-0000-0000-0000-000000000001",
    )
    assert "no person" in refused("session", "list", "--person", "00000000-0000-0000-0000-000000000002")
    assert "no session" in refused("session", "delete", "987654321")
    vagus(*base, "--start", "2024-05-04T10:00", "--end", "2024-05-04T11:00")
    assert "overlaps" in refused(*base, "--start", "2024-05-04T10:30", "--end", "2024-05-04T11:30")


def test_report_add_and_list(vagus, refused, person):
    session = vagus(
        "session",
        "add",
        "--person",
        person,
        "--start",
        "2024-05-04T10:00:00",
        "--end",
        "2024-05-04T11:00:00",
        "--modality",
        "swedish",
        "--pressure",
        "moderate",
    )
    before = vagus(
        "report",
        "add",
        "--person",
        person,
        "--time",
        "2024-05-04T09:55:00",
        "--kind",
        "headache",
        "--value",
        "6",
        "--session",
        str(session["id"]),
        "--phase",
        "before",
    )
    assert isinstance(before["id"], int)
    assert (before["kind"], before["value"], before["headache"], before["phase"]) == (
        "headache",
        6,
        True,
        "before",
    )
    assert before["time_local"] == "2024-05-04T09:55:00+02:00"
    vagus(
        "report",
        "add",
        "--person",
        person,
        "--time",
        "2024-05-04T11:05:00",
        "--kind",
        "headache",
        "--value",
        "0",
        "--session",
        str(session["id"]),
        "--phase",
        "after",
    )
    vagus(
        "report",
        "add",
        "--person",
        person,
        "--time",
        "2024-05-05T07:00:00",
        "--kind",
        "sleep_quality",
        "--value",
        "8",
    )
    headaches = vagus("report", "list", "--person", person, "--kind", "headache")["reports"]
    assert [(r["value"], r["headache"]) for r in headaches] == [(6, True), (0, False)]
    assert vagus("report", "list", "--person", person)["count"] == 3
    assert "--value" in refused(
        "report", "add", "--person", person, "--time", "2024-05-04T09:00", "--kind", "pain", "--value", "12"
    )
    assert "--phase" in refused(
        "report",
        "add",
        "--person",
        person,
        "--time",
        "2024-05-04T09:00",
        "--kind",
        "pain",
        "--value",
        "2",
        "--session",
        str(session["id"]),
    )


def test_lab_add_converts_units(vagus, refused, person):
    result = vagus(
        "lab",
        "add",
        "--person",
        person,
        "--time",
        "2024-05-04T09:45:00",
        "--analyte",
        "cortisol",
        "--value",
        "0.5",
        "--unit",
        "ug/dL",
        "--specimen",
        "saliva",
    )
    assert isinstance(result["id"], int)
    assert (result["value"], result["unit"], result["specimen"]) == (0.5, "ug/dL", "saliva")
    assert result["value_nmol_l"] == pytest.approx(13.79, abs=0.01)
    vagus(
        "lab",
        "add",
        "--person",
        person,
        "--time",
        "2024-05-04T11:30:00",
        "--value",
        "9.5",
        "--unit",
        "nmol/l",
    )
    listed = vagus("lab", "list", "--person", person)["lab_results"]
    assert [(r["unit"], r["value_nmol_l"]) for r in listed] == [
        ("ug/dL", pytest.approx(13.79, abs=0.01)),
        ("nmol/L", 9.5),
    ]
    assert "--unit" in refused(
        "lab", "add", "--person", person, "--time", "2024-05-04T09:45", "--value", "3", "--unit", "mg/dL"
    )


def test_session_show_and_edit(vagus, refused, person):
    session = vagus(
        "session",
        "add",
        "--person",
        person,
        "--start",
        "2024-05-04T10:00:00",
        "--end",
        "2024-05-04T11:00:00",
        "--modality",
        "swedish",
        "--pressure",
        "light",
        "--notes",
        "first",
        "--body-areas",
        "neck",
    )
    edited = vagus(
        "session",
        "edit",
        str(session["id"]),
        "--end",
        "2024-05-04T11:30",
        "--pressure",
        "Deep",
        "--notes",
        "",
    )
    assert (edited["end_local"], edited["duration_minutes"]) == ("2024-05-04T11:30:00+02:00", 90)
    assert (edited["pressure"], edited["notes"], edited["body_areas"]) == ("deep", None, ["neck"])
    assert vagus("session", "show", str(session["id"])) == {**edited, "warnings": []}
    assert "--end" in refused("session", "edit", str(session["id"]), "--end", "2024-05-04T09:00")
    assert "no session" in refused("session", "edit", "987654321", "--notes", "x")


def test_rest_session_needs_no_pressure_and_refuses_one(vagus, refused, person):
    rest = vagus(
        "session",
        "add",
        "--person",
        person,
        "--start",
        "2024-06-01T10:00:00",
        "--end",
        "2024-06-01T11:00:00",
        "--modality",
        "rest",
    )
    assert (rest["modality"], rest["pressure"]) == ("rest", None)
    assert rest["start"] == "2024-06-01T08:00:00Z"
    massage = vagus(
        "session",
        "add",
        "--person",
        person,
        "--start",
        "2024-06-02T10:00:00",
        "--end",
        "2024-06-02T11:00:00",
        "--modality",
        "swedish",
    )
    assert massage["pressure"] is None  # optional for massage too: the schema decides
    stderr = refused(
        "session",
        "add",
        "--person",
        person,
        "--start",
        "2024-06-03T10:00:00",
        "--end",
        "2024-06-03T11:00:00",
        "--modality",
        "rest",
        "--pressure",
        "light",
    )
    assert "--pressure" in stderr and "rest session" in stderr
    # Turning a massage with pressure into a rest session must clear the pressure too.
    pressed = vagus(
        "session",
        "add",
        "--person",
        person,
        "--start",
        "2024-06-04T10:00:00",
        "--end",
        "2024-06-04T11:00:00",
        "--modality",
        "swedish",
        "--pressure",
        "deep",
    )
    stderr = refused("session", "edit", str(pressed["id"]), "--modality", "rest")
    assert "--pressure" in stderr
