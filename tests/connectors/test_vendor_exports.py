"""The four account-export families together: detection order and re-import on a real database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from connectors.fitbit import Fitbit
from connectors.oura import Oura
from connectors.registry import CONNECTORS, detect, read_head
from connectors.samsung_health import SamsungHealth
from connectors.whoop import Whoop
from service.core.db.rls import system_connection
from tests.support.generators.fitbit import write_fitbit_export
from tests.support.generators.oura import write_oura_export
from tests.support.generators.samsung import write_samsung_export
from tests.support.generators.whoop import write_whoop_export
from tests.support.people import import_file, new_person

FAMILIES = {
    "fitbit": lambda path: write_fitbit_export(path, days=2, seed=1),
    "samsung_health": lambda path: write_samsung_export(path, days=1, seed=1),
    "oura": lambda path: write_oura_export(path, days=2, seed=1),
    "whoop": lambda path: write_whoop_export(path, days=3, seed=1),
}
OURS = (Fitbit(), SamsungHealth(), Oura(), Whoop())


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("vendors")
    paths = {}
    for family, write in FAMILIES.items():
        paths[family] = folder / f"{family}.zip"
        write(paths[family])
    return paths


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_export_is_claimed_by_its_own_connector_only(exports, family) -> None:
    path = exports[family]
    head = read_head(path)
    claims = [c.name for c in OURS if c.sniff(path, head)]
    assert claims == [family]
    assert detect(path).name == family


def test_vendor_connectors_sit_before_the_generic_csv_readers() -> None:
    names = [c.name for c in CONNECTORS]
    for ours in ("fitbit", "samsung_health", "oura", "whoop"):
        assert names.index(ours) < names.index("hr_csv")
        assert names.index(ours) < names.index("rr_csv")


def test_generic_files_are_not_taken_for_vendor_exports(tmp_path: Path) -> None:
    """A plain heart-rate CSV or RR list keeps its own connector, whatever it is called."""
    cases = {
        "heart_rate.csv": ("timestamp,bpm\n2024-01-01T00:00:00Z,60\n", "hr_csv"),
        "heart_rate_2024-01-01.csv": ("timestamp,bpm\n2024-01-01T00:00:00Z,60\n", "hr_csv"),
        "sleeps.csv": ("time,rr\n2024-01-01T00:00:00Z,900\n", "rr_csv"),
        "rr.txt": ("900\n910\n905\n", "rr_text"),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        assert detect(path).name == expected, name


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_import_then_reimport_inserts_nothing_new(pool, exports, family) -> None:
    person = new_person(pool, tz="Europe/Berlin")
    first = import_file(pool, person, exports[family])
    assert first.inserted > 0 and first.duplicates == 0
    second = import_file(pool, person, exports[family])
    assert second.inserted == 0
    assert second.duplicates == first.inserted
    with system_connection(pool) as conn:
        rows = conn.execute(
            "SELECT s.key, o.metric::text AS metric, count(*) AS n FROM observation o "
            "JOIN source s ON s.id = o.source_id WHERE o.person_id = %s "
            "GROUP BY s.key, o.metric",
            (person,),
        ).fetchall()
    keys = {row["key"] for row in rows}
    prefix = {"fitbit": "fitbit", "samsung_health": "samsung_health:", "oura": "oura:ring", "whoop": "whoop"}[
        family
    ]
    assert keys and all(key.startswith(prefix) for key in keys)
    assert "hrv_sdnn" not in {row["metric"] for row in rows}


def test_a_known_fitbit_value_is_readable_at_its_instant(pool, tmp_path: Path) -> None:
    path = tmp_path / "takeout.zip"
    truth = write_fitbit_export(path, days=1, seed=7, start=dt.date(2024, 10, 27), google_days=0)
    person = new_person(pool, tz="Europe/Berlin")
    import_file(pool, person, path)
    metric, ts_us, value = truth.known[0]
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ts_us)
    with system_connection(pool) as conn:
        row = conn.execute(
            "SELECT value FROM observation WHERE person_id = %s AND metric = %s AND ts = %s",
            (person, metric, moment),
        ).fetchone()
    assert row is not None and row["value"] == value


def test_a_folder_holding_a_single_vendor_file_is_detected(tmp_path: Path) -> None:
    """Detection of a folder looks at its names; a lone file's content is checked too."""
    cases = {
        "fitbit": (
            "heart_rate-2024-07-01.json",
            '[{"dateTime":"07/01/24 12:00:00","value":{"bpm":70,"confidence":2}}]',
        ),
        "samsung_health": (
            "com.samsung.shealth.stress.20240101000000.csv",
            "com.samsung.shealth.stress,1,3\nstart_time,time_offset,score,\n",
        ),
        "whoop": ("physiological_cycles.csv", "Cycle start time,Cycle timezone\n"),
        "oura": ("sleepmodel.csv", "id;bedtime_start;bedtime_end\n"),
    }
    for family, (name, text) in cases.items():
        folder = tmp_path / family
        folder.mkdir()
        (folder / name).write_text(text)
        assert detect(folder).name == family, family
        assert detect(folder / name).name == family, name
