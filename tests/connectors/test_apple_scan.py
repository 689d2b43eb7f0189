"""The Apple Health scanner against the full lxml parse: same items, same report, every layout.

Production reads ``export.xml`` with :mod:`connectors.apple_scan` (skipped
records are never parsed); ``AppleHealth.full_parse`` reads every element with
lxml. Both must give identical output on every fixture of the Apple tests and
on generated exports in many spellings.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors import apple_health, apple_scan
from connectors.apple_health import AppleHealth
from connectors.base import (
    ConnectorError,
    Episode,
    ReadContext,
    ReadReport,
    SampleBatch,
)
from tests.connectors.test_apple_health import export, hr, sdnn
from tests.connectors.test_apple_security import (
    billion_laughs,
    external_entity,
    parameter_entity,
)
from tests.support.generators.apple import write_export
from tests.support.generators.apple_respell import respell


@dataclass
class Outcome:
    """Everything a read gives: items in order, the report, or the error."""

    items: list[tuple[Any, ...]]
    report: dict[str, Any]
    error: str | None = None


def item_key(item: SampleBatch | Episode) -> tuple[Any, ...]:
    if isinstance(item, SampleBatch):
        return (
            "batch",
            item.source,
            item.metric,
            item.utc_offset_s,
            tuple(sorted((item.tags or {}).items())),
            item.ts.tolist(),
            item.value.tolist(),
        )
    return (
        "episode",
        item.source,
        item.kind,
        item.start,
        item.end,
        item.start.utcoffset(),
        item.end.utcoffset(),
    )


def outcome(path: Path, *, full: bool) -> Outcome:
    connector = AppleHealth()
    connector.full_parse = full
    progress: list[int] = []
    report = ReadReport(on_progress=lambda r: progress.append(r.bytes_read))
    items: list[tuple[Any, ...]] = []
    error = None
    try:
        items.extend(item_key(i) for i in connector.read(path, ReadContext(), report))
    except ConnectorError as exc:
        error = type(exc).__name__
    return Outcome(
        items,
        {
            "rejected": report.rejected,
            "skipped": report.skipped,
            "notes": report.notes,
            "bytes_total": report.bytes_total,
            "bytes_read": report.bytes_read,
            "last_progress": progress[-1:],
        },
        error,
    )


@pytest.fixture
def scanned_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if the default path leaves the document to the full parse."""
    scannable = apple_health._scannable_prolog

    def must_scan(*args: Any) -> Any:
        prolog = scannable(*args)
        assert prolog is not None, "the scanner left this document to the full parse"
        return prolog

    monkeypatch.setattr(apple_health, "_scannable_prolog", must_scan)


def assert_same(path: Path, *, expect_items: bool = True) -> Outcome:
    reference = outcome(path, full=True)
    scanned = outcome(path, full=False)
    assert scanned.error == reference.error
    assert scanned.report == reference.report
    assert scanned.items == reference.items
    if expect_items:
        assert reference.error is None and len(reference.items) > 0
    return reference


# -- the fixtures of the Apple tests ------------------------------------------


@pytest.mark.usefixtures("scanned_only")
@pytest.mark.parametrize(
    ("seed", "days", "layout", "ecg"),
    [
        (11, 4, "zip", 2),
        (5, 2, "xml", 0),
        (3, 2, "folder", 1),
        (3, 2, "xml", 0),
        (9, 2, "zip", 0),
        (2, 3, "xml", 0),
        (4, 1, "xml", 0),
        (5, 1, "xml", 0),
    ],
)
def test_generated_fixtures_read_the_same(
    tmp_path: Path, seed: int, days: int, layout: str, ecg: int
) -> None:
    target = tmp_path / {"zip": "export.zip", "xml": "export.xml", "folder": "out"}[layout]
    write_export(
        target,
        days=days,
        seed=seed,
        layout=layout,  # type: ignore[arg-type]
        ecg_count=ecg,
    )
    assert_same(target if layout != "folder" else target / "apple_health_export")


@pytest.mark.usefixtures("scanned_only")
@pytest.mark.parametrize(
    "body",
    [
        hr("61")
        + hr("abc")
        + hr("62", start="2024-05-04T07:00:00Z")
        + hr("63", unit="count/s")
        + hr("0.45", kind="HKQuantityTypeIdentifierOxygenSaturation", unit="%")
        + '<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="x" '
        'startDate="2024-05-04 01:00:00 +0200" endDate="2024-05-04 02:00:00 +0200" '
        'value="HKCategoryValueSleepAnalysisDreaming"/>\n',
        hr("70", start="2018-09-10 02:28:55 -0700")
        + '<Record type="HKCategoryTypeIdentifierMindfulSession" sourceName="Breathe" '
        'startDate="2018-09-10 12:00:00 -0700" endDate="2018-09-10 12:05:00 -0700" '
        'value="HKCategoryValueNotApplicable"/>\n',
        sdnn(["7:00:01.10 AM", "7:00:02.00 AM", "7:00:02.95 AM"])
        + sdnn(["7:00:01.10 AM", "7:00:02.00 XM"])
        + sdnn(["7:30:01.10", "7:30:02.00", "7:30:03.00"])
        + sdnn(["8:00:01.10", "8:00:02.00"]),
        '<Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="P" '
        'startDate="2024-05-04 07:00:00 +0200" endDate="2024-05-04 07:00:00 +0200">'
        + hr("70")
        + hr("121", kind="HKQuantityTypeIdentifierBloodPressureSystolic", unit="mmHg")
        + "</Correlation>\n"
        + hr("71"),
    ],
    ids=["rejections", "offsets", "beat-lists", "correlation"],
)
def test_handcrafted_fixtures_read_the_same(tmp_path: Path, body: str) -> None:
    assert_same(export(tmp_path, body))


def test_hostile_and_broken_fixtures_fail_the_same(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    for text in (
        billion_laughs(),
        external_entity("file:///etc/passwd"),
        parameter_entity("file:///etc/passwd"),
        "<HealthData>" + hr("72").replace("Alex", "&xxe;") + "</HealthData>",
    ):
        path.write_text(text)
        assert assert_same(path, expect_items=False).error == "ConnectorError"
    truncated = export(tmp_path, hr("61") * 3)
    truncated.write_bytes(truncated.read_bytes()[:-40])
    assert assert_same(truncated, expect_items=False).error == "ConnectorError"


@pytest.mark.shared_data
@pytest.mark.usefixtures("scanned_only")
@pytest.mark.parametrize("name", ["export.xml", "export.zip"])
def test_real_sample_reads_the_same(shared_data: Path, name: str) -> None:
    assert_same(shared_data / "apple" / name)


# -- generated exports in many spellings --------------------------------------

ZONES = ("Europe/Berlin", "America/Los_Angeles", "Asia/Kolkata", "Australia/Lord_Howe", "UTC")


@pytest.mark.usefixtures("scanned_only")
@pytest.mark.parametrize("seed", range(24))
def test_random_exports_read_the_same(tmp_path: Path, seed: int) -> None:
    """Seeds vary the size, zone (DST, half-hour offsets), layout and odd formatting."""
    rng = random.Random(seed)
    plain = tmp_path / "plain.xml"
    write_export(
        plain,
        days=rng.randint(1, 3),
        seed=seed,
        layout="xml",
        tz=ZONES[seed % len(ZONES)],
        start=dt.date(2024, 3, 29) + dt.timedelta(days=rng.randrange(0, 220)),
        hr_every_s=rng.choice((60, 120, 300)),
        energy_every_s=rng.choice((60, 240)),
    )
    text = plain.read_text(encoding="utf-8")
    odd = (0.0, 0.05, 0.3, 0.8)[seed % 4]
    spelled = respell(text, seed, odd=odd, whitespace_in_values=seed % 3 == 0) if odd else text
    if seed % 5 == 4:  # the same document zipped
        target = tmp_path / "export.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                "apple_health_export/export_cda.xml",  # first: must be passed over
                "<ClinicalDocument><HealthData/></ClinicalDocument>",
            )
            archive.writestr("apple_health_export/export.xml", spelled.encode("utf-8"))
    else:
        target = tmp_path / "export.xml"
        target.write_text(spelled, encoding="utf-8")
    assert_same(target)


@pytest.mark.usefixtures("scanned_only")
@pytest.mark.parametrize("chunk", [1, 7, 100, 4093])
def test_records_across_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    plain = tmp_path / "plain.xml"
    write_export(plain, days=1, seed=chunk, layout="xml", hr_every_s=600, energy_every_s=900)
    path = tmp_path / "export.xml"
    path.write_text(respell(plain.read_text(encoding="utf-8"), chunk, odd=0.3), encoding="utf-8")
    reference = outcome(path, full=True)
    monkeypatch.setattr(apple_scan, "CHUNK_BYTES", chunk)
    scanned = outcome(path, full=False)
    assert scanned.items == reference.items and scanned.report == reference.report
    assert reference.items


# -- what the scanner decides on its own --------------------------------------


def test_prologs_the_scanner_leaves_to_the_full_parse(tmp_path: Path) -> None:
    """Another encoding or a DTD whose attribute types a parser would apply: read by lxml."""
    body = hr("61") + hr("62", start="2024-05-04 07:01:00 +0200")
    latin = export(
        tmp_path, body.replace("Alex’s", "Alex's"), prolog='<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    )
    assert apple_scan.read_prolog(latin.read_bytes(), b"HealthData") is None
    assert_same(latin)
    typed = export(
        tmp_path, body, prolog="<!DOCTYPE HealthData [\n<!ATTLIST Record type NMTOKEN #REQUIRED>\n]>\n"
    )
    assert apple_scan.read_prolog(typed.read_bytes(), b"HealthData") is None
    assert_same(typed)
    plain = export(
        tmp_path,
        body,
        prolog='<?xml version="1.0" encoding="utf-8"?>\n'
        "<!DOCTYPE HealthData [\n<!ATTLIST Record type CDATA #REQUIRED>\n]>\n",
    )
    assert apple_scan.read_prolog(plain.read_bytes(), b"HealthData") is not None


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        (hr("61") + "<Record type='x'>\n</Workout>\n", "end tag </Workout>", 6),
        (hr("61") + "<Record type='x' <Record/>\n", "malformed start tag", 5),
        (hr("61") + "<!DOCTYPE x>\n", "markup declaration", 5),
        (hr("61") + "<Record type='x'>\n", "where </Record> was expected", 6),
    ],
)
def test_malformed_structure_names_the_line(tmp_path: Path, body: str, message: str, line: int) -> None:
    path = export(tmp_path, body)
    with pytest.raises(ConnectorError, match=message) as caught:
        list(AppleHealth().read(path, ReadContext(), ReadReport()))
    assert caught.value.line == line and str(path) in str(caught.value)


def test_content_after_the_root_is_malformed(tmp_path: Path) -> None:
    path = export(tmp_path, hr("61"))
    path.write_text(path.read_text() + "<Record/>\n")
    with pytest.raises(ConnectorError, match="after </HealthData>"):
        list(AppleHealth().read(path, ReadContext(), ReadReport()))


def read_ahead_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "apple-health-read-ahead"]


def test_stopping_early_stops_the_read_ahead(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "export.zip"
    write_export(path, days=3, seed=6)
    monkeypatch.setattr(apple_health, "BATCH_SIZE", 50)
    monkeypatch.setattr(apple_scan, "CHUNK_BYTES", 4096)  # many chunks still to read
    items = AppleHealth().read(path, ReadContext(), ReadReport())
    assert isinstance(next(items), SampleBatch)
    assert read_ahead_threads()
    items.close()
    assert read_ahead_threads() == []


def test_a_damaged_zip_member_is_reported(tmp_path: Path) -> None:
    """A CRC error found by the read-ahead thread reaches the caller as a ConnectorError."""
    plain = tmp_path / "plain.xml"
    write_export(plain, days=1, seed=8, layout="xml")
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("apple_health_export/export.xml", plain.read_bytes())
    raw = path.read_bytes()
    at = raw.index(b'unit="kcal"')
    path.write_bytes(raw[:at] + b'unit="kcaL"' + raw[at + 11 :])
    for full in (False, True):
        connector = AppleHealth()
        connector.full_parse = full
        with pytest.raises(ConnectorError, match="could not read the export"):
            list(connector.read(path, ReadContext(), ReadReport()))
    assert read_ahead_threads() == []


@pytest.mark.usefixtures("scanned_only")
def test_records_inside_comments_cdata_and_instructions_do_not_count(tmp_path: Path) -> None:
    decoy = hr("99", start="2024-05-04 08:00:00 +0200").strip()
    body = (
        f"<!-- {decoy} -->\n<![CDATA[ {decoy} ]]>\n<?note {decoy} ?>\n"
        + hr("61")
        + hr("62", start="2024-05-04 07:01:00 +0200").replace("/>", f"><!-- {decoy} --></Record>")
    )
    path = export(tmp_path, body)
    reference = assert_same(path)
    values = [v for item in reference.items if item[0] == "batch" for v in item[-1]]
    assert sorted(values) == [61.0, 62.0]


def test_damaged_deflate_data_is_a_connector_error(tmp_path: Path) -> None:
    """Corrupt compressed bytes (zlib errors, CRC errors, garbled XML): always a ConnectorError."""
    plain = tmp_path / "plain.xml"
    write_export(plain, days=1, seed=8, layout="xml")
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export.xml", plain.read_bytes())
    good = path.read_bytes()
    for offset in range(200, len(good) // 2, 4999):
        path.write_bytes(good[:offset] + b"\xff" * 8 + good[offset + 8 :])
        for full in (False, True):
            connector = AppleHealth()
            connector.full_parse = full
            with pytest.raises(ConnectorError):
                list(connector.read(path, ReadContext(), ReadReport()))
