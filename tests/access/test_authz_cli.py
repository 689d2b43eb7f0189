"""`vagus token create|list|revoke|rotate` against a real database, as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.fixture
def vagus(database_url, tmp_path):
    env = {"VAGUS_DATABASE_URL": database_url, "VAGUS_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> tuple[int, dict | None, str]:
        result = subprocess.run(
            [sys.executable, "-m", "service.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
        )
        payload = json.loads(result.stdout) if result.stdout.strip().startswith("{") else None
        return result.returncode, payload, result.stderr

    return run


def test_therapist_token_lifecycle(vagus, client):
    code, created, _ = vagus("token", "create", "--role", "therapist", "--name", "Dr CLI", "--json")
    assert code == 0 and created["role"] == "therapist" and created["token"].startswith("vgs_")
    headers = {"Authorization": f"Bearer {created['token']}"}
    me = client.get("/v1/me", headers=headers).json()
    assert me["role"] == "therapist" and me["account_id"] == created["account_id"]

    code, listed, _ = vagus("token", "list", "--account", created["account_id"], "--json")
    assert code == 0 and [t["state"] for t in listed["tokens"]] == ["live"]
    assert created["token"] not in json.dumps(listed)  # never the secret

    code, rotated, _ = vagus("token", "rotate", str(created["token_id"]), "--json")
    assert code == 0 and rotated["replaces"] == created["token_id"]
    assert client.get("/v1/me", headers=headers).status_code == 401
    new_headers = {"Authorization": f"Bearer {rotated['token']}"}
    assert client.get("/v1/me", headers=new_headers).status_code == 200

    code, _, _ = vagus("token", "revoke", str(rotated["token_id"]), "--json")
    assert code == 0
    assert client.get("/v1/me", headers=new_headers).status_code == 401
    code, _, stderr = vagus("token", "revoke", str(rotated["token_id"]))
    assert code == 2 and "no live token" in stderr


def test_person_flag_only_for_patients(vagus):
    code, _, stderr = vagus(
        "token", "create", "--role", "app", "--person", "00000000-0000-4000-8000-000000000000"
    )
    assert code == 2 and "drop --person" in stderr
