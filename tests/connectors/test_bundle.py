"""Bundles: mixed folders and zips import every part with its own connector."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest

from connectors import ConnectorError, Episode, ReadContext, ReadReport, detect
from connectors.bundle import Bundle
from connectors.registry import get_connector
from tests.connectors.test_empatica import write_session
from tests.support.generators.apple import write_export
from tests.support.generators.fit import write_fit_activity
from tests.support.generators.garmin_connect import write_garmin_export
from tests.support.generators.health_connect import write_health_connect
from tests.support.generators.polar_flow import write_polar_export, zip_folder

TZ = "Europe/Berlin"


def _counts(path: Path, connector=None) -> tuple[Counter[str], ReadReport]:
    """Samples per format-independent key (metric, source key) read from ``path``."""
    connector = connector or detect(path)
    report = ReadReport()
    counts: Counter[str] = Counter()
    for item in connector.read(path, ReadContext(tz=TZ), report):
        if isinstance(item, Episode):
            counts[f"episode {item.kind} {item.source.key}"] += 1
        else:
            counts[f"{item.metric} {item.source.key}"] += len(item)
    return counts, report


def _mixed_folder(root: Path) -> Path:
    (root / "fit").mkdir(parents=True)
    write_fit_activity(root / "fit" / "run.fit", seed=0, minutes=1)
    write_fit_activity(root / "fit" / "ride.fit", seed=1, minutes=1)
    write_export(root / "apple", days=1, layout="folder")
    write_session(root / "empatica" / "1700000000_A01B2C")
    write_polar_export(root / "polar", days=1)
    (root / "phone").mkdir()
    write_health_connect(
        root / "phone" / "health_connect_export.db", days=1, records_per_day=2, samples_per_record=5
    )
    write_garmin_export(root / "garmin-export.zip", days=2, activities=1)
    with closing(sqlite3.connect(root / "phone" / "app-cache.db")) as other_app:
        other_app.execute("CREATE TABLE cache (key TEXT, value BLOB)")  # not Health Connect's
    (root / "strap_rr.csv").write_text("time,rr\n2024-05-04T07:00:00Z,812\n2024-05-04T07:00:00.812Z,820\n")
    (root / "notes.docx").write_bytes(b"PK\x03\x04 not really a document")
    (root / "diary.txt").write_text("felt relaxed after the massage\n")
    return root


def test_mixed_folder_reads_every_part_with_its_own_connector(tmp_path):
    root = _mixed_folder(tmp_path / "everything")
    bundle = detect(root)
    assert isinstance(bundle, Bundle)
    assert bundle.formats == [
        "apple_health",
        "empatica_e4",
        "garmin_connect",
        "garmin_fit",
        "health_connect",
        "polar_flow",
        "rr_csv",
    ]
    counts, report = _counts(root)
    # Every part gives exactly what its connector gives on its own.
    alone: Counter[str] = Counter()
    for part in bundle.plan.parts:
        alone.update(_counts(part.path, part.connector)[0])
    assert counts == alone
    assert {p.format: p.path for p in report.parts} == {
        "garmin_fit": "fit",
        "apple_health": "apple/apple_health_export",
        "empatica_e4": "empatica/1700000000_A01B2C",
        "polar_flow": "polar",
        "rr_csv": "strap_rr.csv",
        "garmin_connect": "garmin-export.zip",
        "health_connect": "phone/health_connect_export.db",
    }
    for part in report.parts:
        assert part.samples > 0
    assert (
        next(p for p in report.parts if p.format == "polar_flow").skipped[
            "Polar Flow file not read (activity)"
        ]
        == 1
    )
    # What no connector recognised is named, counted, and never read.
    assert report.skipped["notes.docx: not recognised as any supported format"] == 1
    assert report.skipped["diary.txt: not recognised as any supported format"] == 1
    assert report.skipped["phone/app-cache.db: not recognised as any supported format"] == 1
    assert report.bytes_read == report.bytes_total > 0


def test_bundle_totals_are_the_sum_of_its_parts(tmp_path):
    root = _mixed_folder(tmp_path / "everything")
    _, report = _counts(root)
    for reason, count in report.rejected.items():
        assert count == sum(p.rejected[reason] for p in report.parts)
    assert sum(p.samples for p in report.parts) == sum(_counts(root)[0].values()) - sum(
        p.episodes for p in report.parts
    )


def test_progress_only_moves_forward(tmp_path):
    root = _mixed_folder(tmp_path / "everything")
    seen: list[int] = []
    report = ReadReport(on_progress=lambda r: seen.append(r.bytes_read))
    list(detect(root).read(root, ReadContext(tz=TZ), report))
    assert seen == sorted(seen) and seen[-1] == report.bytes_total


def test_mixed_zip_reads_each_format_from_its_own_members(tmp_path):
    polar_folder = polar = tmp_path / "polar"
    write_polar_export(polar, days=1)
    apple_zip = tmp_path / "apple.zip"
    write_export(apple_zip, days=1, layout="zip")
    fit = tmp_path / "run.fit"
    write_fit_activity(fit, seed=2, minutes=1)
    mixed = tmp_path / "handover.zip"
    with zipfile.ZipFile(mixed, "w") as archive, zipfile.ZipFile(apple_zip) as apple:
        for info in apple.infolist():
            archive.writestr(info.filename, apple.read(info))
        for path in polar.iterdir():
            archive.write(path, f"polar-user-data-export_1/{path.name}")
        archive.write(fit, "garmin/run.fit")
        archive.writestr("photos/massage-room.jpg", b"\xff\xd8\xff not really a photo")
        archive.writestr("readme.txt", "what is in here")
    bundle = detect(mixed)
    assert isinstance(bundle, Bundle)
    assert bundle.formats == ["apple_health", "garmin_fit", "polar_flow"]
    counts, report = _counts(mixed)
    expected: Counter[str] = Counter()
    expected.update(_counts(apple_zip)[0])
    expected.update(_counts(polar)[0])
    expected.update(_counts(fit)[0])
    assert counts == expected
    assert [p.path for p in report.parts] == ["handover.zip"] * 3
    assert report.skipped["handover.zip!photos: not recognised as any supported format"] == 1
    assert report.skipped["handover.zip!readme.txt: not recognised as any supported format"] == 1
    assert not any(
        reason.startswith("handover.zip!apple_health_export") or reason.startswith("handover.zip!polar")
        for reason in report.skipped
    )
    # Each part counts what it skipped of its own export, not the other exports' files.
    polar = next(p for p in report.parts if p.format == "polar_flow")
    assert dict(polar.skipped) == dict(_counts(polar_folder)[1].skipped)


def test_one_export_keeps_its_own_connector(tmp_path):
    write_polar_export(tmp_path / "polar")
    assert detect(tmp_path / "polar").name == "polar_flow"
    write_export(tmp_path / "download", days=1, layout="folder")
    assert detect(tmp_path / "download").name == "apple_health"
    (tmp_path / "fits" / "2024").mkdir(parents=True)
    write_fit_activity(tmp_path / "fits" / "a.fit", seed=0, minutes=0.5)
    write_fit_activity(tmp_path / "fits" / "2024" / "b.fit", seed=1, minutes=0.5)
    assert detect(tmp_path / "fits").name == "garmin_fit"


def test_a_broken_part_stops_the_import_naming_file_and_part(tmp_path):
    root = tmp_path / "everything"
    (root / "fit").mkdir(parents=True)
    write_fit_activity(root / "fit" / "run.fit", seed=0, minutes=0.5)
    (root / "polar").mkdir()
    broken = root / "polar" / "ppi_samples_2024-05-04.json"
    broken.write_text('[{"date": "2024-05-04", "devicePpiSamplesList": [\n{"deviceId": ')
    with pytest.raises(ConnectorError) as caught:
        _counts(root)
    assert caught.value.file == str(broken) and caught.value.line == 2
    assert "polar_flow part polar" in str(caught.value)


def test_nothing_recognisable_is_an_error(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.pdf").write_bytes(b"%PDF-1.7")
    with pytest.raises(ConnectorError, match="format not recognised"):
        detect(tmp_path / "docs")


def test_zip_of_zips_names_what_to_extract(tmp_path):
    inner = tmp_path / "inner.zip"
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("notes.txt", "x")
    outer = tmp_path / "outer.zip"
    with zipfile.ZipFile(outer, "w") as archive:
        archive.write(inner, "parts/inner.zip")
    with pytest.raises(ConnectorError, match="format not recognised"):
        detect(outer)
    root = tmp_path / "mixed"
    (root / "polar").mkdir(parents=True)
    write_polar_export(root / "polar")
    (root / "outer.zip").write_bytes(outer.read_bytes())
    _, report = _counts(root)
    assert any("parts/inner.zip" in reason for reason in report.skipped)


def test_polar_zip_beside_a_fit_folder(tmp_path):
    root = tmp_path / "mixed"
    (root / "fit").mkdir(parents=True)
    write_fit_activity(root / "fit" / "a.fit", seed=0, minutes=0.5)
    write_polar_export(tmp_path / "polar")
    zip_folder(tmp_path / "polar", root / "polar-export.zip")
    bundle = detect(root)
    assert isinstance(bundle, Bundle)
    assert bundle.formats == ["garmin_fit", "polar_flow"]


@pytest.mark.shared_data
def test_real_files_in_a_mixed_folder_give_all_three_formats(shared_data):
    """../shared/data holds fit/, apple/ and empatica/ side by side, as a user would."""
    bundle = detect(shared_data)
    assert isinstance(bundle, Bundle)
    counts, report = _counts(shared_data)
    by_format = {p.format: p for p in report.parts}
    assert set(by_format) == {"garmin_fit", "apple_health", "empatica_e4"}
    for fmt in by_format:
        assert sum(p.samples for p in report.parts if p.format == fmt) > 0
    assert by_format["garmin_fit"].path == "fit"
    assert by_format["empatica_e4"].path == "empatica"
    # The same samples as importing each folder on its own.
    alone: Counter[str] = Counter()
    for name in ("fit", "apple", "empatica"):
        alone.update(_counts(shared_data / name)[0])
    # apple/ holds export.xml and export.zip, the same export twice: the bundle
    # reads both (a re-import inserts nothing), the folder alone reads the XML.
    apple_zip, _ = _counts(shared_data / "apple" / "export.zip")
    alone.update(apple_zip)
    assert counts == alone
    assert report.skipped["README.md: not recognised as any supported format"] == 1


def test_format_names_are_registered():
    for name in ("polar_flow", "garmin_connect", "health_connect"):
        assert get_connector(name).name == name
    assert json.dumps([p.as_dict() for p in ReadReport().parts]) == "[]"


def test_a_symbolic_link_loop_is_walked_once(tmp_path):
    root = tmp_path / "mixed"
    write_polar_export(root / "polar")
    (root / "fit").mkdir()
    write_fit_activity(root / "fit" / "a.fit", seed=0, minutes=0.5)
    (root / "fit" / "back").symlink_to(root, target_is_directory=True)
    bundle = detect(root)
    assert isinstance(bundle, Bundle)
    assert sorted(p.format for p in bundle.plan.parts) == ["garmin_fit", "polar_flow"]
