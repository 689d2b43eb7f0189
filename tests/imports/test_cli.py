"""The `vagus` command-line contract, run as a real subprocess against the test database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture
def vagus(database_url: str, tmp_path: Path):
    env = {**os.environ, "VAGUS_DATABASE_URL": database_url, "VAGUS_DATA_DIR": str(tmp_path)}

    def run(*args: str, expect: int = 0) -> dict:
        result = subprocess.run(
            [sys.executable, "-m", "service.cli", *args, "--json"],
            env=env,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=120,
        )
        assert result.returncode == expect, result.stderr
        lines = result.stdout.strip().splitlines()
        assert len(lines) == 1, result.stdout  # exactly one JSON object
        return json.loads(lines[0])

    return run


def test_db_status_reports_tier_and_nothing_pending(vagus):
    status = vagus("db", "status")
    assert status["tier"] in {"timescale", "apache", "postgres"}
    assert status["pending"] == 0
    assert vagus("db", "upgrade")["applied"] == []


def test_person_token_and_import_contract(vagus, tmp_path):
    person = vagus("person", "create", "--name", "Cli Person", "--tz", "America/New_York")
    assert len(person["id"]) == 36
    token = vagus("token", "create", "--role", "patient", "--person", person["id"])
    assert token["token"].startswith("vgs_")
    assert vagus("token", "create", "--role", "admin")["token"] != token["token"]

    rr = tmp_path / "rr.txt"
    rr.write_text("".join(f"{800 + i % 5 * 20}\n" for i in range(400)) + "4000\n")
    first = vagus("import", str(rr), "--person", person["id"], "--start", "2024-05-04T07:00:00")
    expected_keys = {"import_id", "status", "read", "inserted", "duplicates", "rejected", "rejected_reasons"}
    assert expected_keys <= first.keys()
    assert (first["status"], first["read"], first["inserted"], first["rejected"]) == (
        "completed",
        401,
        400,
        1,
    )
    assert first["rejected_reasons"] == {"rr_interval out of physiological bounds": 1}
    second = vagus("import", str(rr), "--person", person["id"], "--start", "2024-05-04T07:00:00")
    assert (second["inserted"], second["duplicates"]) == (0, 400)
    assert second["import_id"] != first["import_id"]


def test_failed_import_exits_1_with_reason(vagus, tmp_path):
    person = vagus("person", "create", "--name", "Cli Fail")
    rr = tmp_path / "rr.txt"
    rr.write_text("800\n900\n")
    failed = vagus("import", str(rr), "--person", person["id"], expect=1)
    assert failed["status"] == "failed" and "--start" in failed["error"]


def test_bad_zone_and_unknown_person_are_usage_errors(database_url, tmp_path):
    env = {**os.environ, "VAGUS_DATABASE_URL": database_url, "VAGUS_DATA_DIR": str(tmp_path)}
    for args, message in (
        (["person", "create", "--name", "X", "--tz", "Nowhere/Town"], "time zone"),
        (["token", "create", "--role", "patient", "--person", "not-a-uuid"], "not a person id"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "service.cli", *args, "--json"],
            env=env,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=120,
        )
        assert result.returncode == 2 and message in result.stderr
        assert result.stdout == ""


def test_evidence_prints_the_api_object(vagus):
    person = vagus("person", "create", "--name", "Cli Evidence", "--tz", "Europe/Berlin")
    vagus(
        "session",
        "add",
        "--person",
        person["id"],
        "--start",
        "2024-05-04T15:00:00",
        "--end",
        "2024-05-04T16:00:00",
        "--modality",
        "swedish",
        "--pressure",
        "moderate",
    )
    evidence = vagus("evidence", "--person", person["id"])
    assert evidence["n_sessions"] == 1
    claims = {c["claim"]: c for c in evidence["claims"]}
    assert len(claims) == 11
    for claim in claims.values():
        assert {
            "claim",
            "verdict",
            "evidence_kind",
            "n_sessions",
            "estimate",
            "ci_low",
            "ci_high",
            "summary",
            "literature",
        } <= claim.keys()
    assert claims["flexibility"]["evidence_kind"] == "none"
    assert claims["acute_stress"]["verdict"] == "insufficient data"


def test_cli_import_goes_through_the_whole_pipeline(vagus, pool, tmp_path):
    """A CLI import marks the person for recompute and tells subscribed apps, as uploads do."""
    from service.access import auth
    from service.access.repository import accounts, grants
    from service.core.db import rls
    from service.webhooks import repository as webhook_repo

    person = vagus("person", "create", "--name", "Pipeline Person", "--tz", "Europe/Berlin")["id"]
    with rls.system_connection(pool) as conn:
        app = accounts.create(conn, role="app", name="Listening app")
        auth.issue_token(conn, account_id=str(app["id"]))
        grants.create(
            conn,
            person_id=person,
            grantee_id=str(app["id"]),
            scopes=["read:observations"],
            status="active",
            requested_by=str(app["id"]),
            expires_at=None,
            note=None,
        )
        webhook_repo.create(
            conn,
            account_id=str(app["id"]),
            url="http://127.0.0.1:9/hook",
            secret="whsec_test",
            events=["import.completed"],
            person_id=person,
        )
    rr = tmp_path / "rr.txt"
    rr.write_text("\n".join(str(800 + (i % 7) * 10) for i in range(300)) + "\n")
    done = vagus("import", str(rr), "--person", person, "--start", "2024-05-04T07:00:00+02:00")
    assert done["status"] == "completed" and done["inserted"] == 300
    with rls.system_connection(pool) as conn:
        pending = conn.execute(
            "SELECT import_ids FROM recompute_pending WHERE person_id = %s", (person,)
        ).fetchone()
        deliveries = conn.execute(
            "SELECT payload FROM job WHERE kind = 'webhook_deliver' "
            "AND payload->'event'->>'type' = 'import.completed' "
            "AND payload->'event'->>'id' = %s",
            (f"import.completed:import:{done['import_id']}",),
        ).fetchall()
    assert pending is not None and done["import_id"] in pending["import_ids"]
    assert len(deliveries) == 1
