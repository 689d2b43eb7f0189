"""The import ledger's figures mean what they say, and the CLI and API word problems alike
(issue 12, points 7 and 12)."""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

from connectors.registry import detect
from service.core.db.rls import system_connection
from service.imports import repository as imports
from service.imports.service import run_import
from tests.support.generators.apple import write_export
from tests.support.people import bearer, new_person, patient_token, write_rr_text


def _register(pool, person_id: str, name: str) -> int:
    with system_connection(pool) as conn:
        return imports.create(conn, person_id=person_id, file_name=name)["id"]


def _row(pool, import_id: int) -> dict:
    with system_connection(pool) as conn:
        return imports.get(conn, import_id)


def test_started_and_finished_bracket_the_real_run(pool, tmp_path):
    path = write_rr_text(tmp_path / "rr.txt")
    real = detect(path)
    pause_s = 0.3

    def slow_read(file, ctx, report):
        time.sleep(pause_s)  # the read itself takes this long, whatever the machine
        yield from real.read(file, ctx, report)

    connector = SimpleNamespace(name=real.name, description="slow", read=slow_read)
    person = new_person(pool)
    import_id = _register(pool, person, path.name)
    outcome = run_import(
        pool, import_id, path, connector=connector, start=dt.datetime(2024, 5, 4, 7, tzinfo=dt.UTC)
    )
    assert outcome.status == "completed", outcome.error
    row = _row(pool, import_id)
    assert (row["finished_at"] - row["started_at"]).total_seconds() >= pause_s


def test_a_zips_progress_is_measured_in_one_unit_and_never_passes_one(pool, client, tmp_path):
    path = tmp_path / "export.zip"
    write_export(path, days=1)
    person = new_person(pool)
    import_id = _register(pool, person, path.name)
    assert run_import(pool, import_id, path).status == "completed"
    row = _row(pool, import_id)
    assert row["size_bytes"] == path.stat().st_size  # the stored (compressed) file
    # The connector reads the uncompressed XML: far more than the zip's size, and the
    # ledger's denominator is in that same unit.
    assert row["bytes_read"] > row["size_bytes"]
    assert 0 < row["bytes_read"] <= row["bytes_total"]
    record = client.get(f"/v1/imports/{import_id}", headers=bearer(patient_token(pool, person))).json()
    assert record["progress"] == 1.0 and record["bytes_total"] == row["bytes_total"]


def test_an_empty_file_is_worded_alike_by_api_and_cli(pool, client, vagus_in_process, tmp_path):
    person = new_person(pool)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    cli = vagus_in_process("import", str(empty), "--person", person, "--json")
    assert cli.code == 1
    assert cli.json()["error"] == "empty.txt: empty file (0 bytes): nothing to import"
    api = client.post(
        f"/v1/persons/{person}/imports?filename=empty.txt",
        content=b"",
        headers=bearer(patient_token(pool, person)),
    )
    assert api.status_code == 400
    assert "empty.txt: empty file (0 bytes): nothing to import" in api.json()["detail"]
    listed = client.get(f"/v1/persons/{person}/imports", headers=bearer(patient_token(pool, person))).json()[
        "items"
    ]
    empty_error = "empty.txt: empty file (0 bytes): nothing to import"
    # The API refuses an empty upload before anything is stored, so only the CLI's attempt
    # is in the ledger; both say the same words.
    assert [i["error"] for i in listed] == [empty_error]


def test_an_unrecognised_format_names_the_way_to_choose_one_for_each_way_in(pool, tmp_path):
    path = tmp_path / "notes.bin"
    path.write_bytes(b"\x00\x01 not any export \x02" * 10)
    person = new_person(pool)
    by_api = run_import(pool, _register(pool, person, path.name), path, via="api")
    assert "format not recognised" in by_api.error
    assert "?format=" in by_api.error and "--format" not in by_api.error
    by_cli = run_import(pool, _register(pool, person, path.name), path)
    assert "pass --format NAME" in by_cli.error and "?format=" not in by_cli.error


def test_cli_import_text_lists_rejection_reasons(pool, vagus_in_process, tmp_path):
    person = new_person(pool)
    path = write_rr_text(tmp_path / "rr.txt", rr_ms=[800.0] * 50 + [20.0, 9000.0] + [810.0] * 50)
    result = vagus_in_process(
        "import", str(path), "--person", person, "--start", "2024-05-04T07:00:00Z", "-q"
    )
    assert result.code == 0, result.stderr
    assert "rejected 2" in result.stdout
    reasons = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    assert reasons and all(line.startswith("rejected ") for line in reasons)
    assert sum(int(line.split()[1].rstrip(":")) for line in reasons) == 2
