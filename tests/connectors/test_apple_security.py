"""Hostile Apple Health exports: XML bombs, external entities, zip bombs, zip-slip.

Each is refused with a clear :class:`ConnectorError` before anything is
yielded, or (an external DTD reference) neutralised: never loaded, nothing of
it stored.
"""

from __future__ import annotations

import resource
import zipfile
from pathlib import Path

import pytest

from connectors.apple_health import AppleHealth
from connectors.base import ConnectorError, Item, ReadContext, ReadReport, SampleBatch

RECORD = (
    '<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="{name}" unit="count/min" '
    'startDate="2024-05-04 07:00:00 +0200" endDate="2024-05-04 07:00:00 +0200" '
    'value="{value}"/>'
)


def billion_laughs() -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n{"".join(entities)}\n]>\n'
        '<HealthData locale="en_US">' + RECORD.format(name="&lol9;", value="72") + "&lol9;</HealthData>\n"
    )


def external_entity(url: str) -> str:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n<!ENTITY xxe SYSTEM "{url}">\n]>\n'
        '<HealthData locale="en_US">' + RECORD.format(name="&xxe;", value="72") + "</HealthData>\n"
    )


def parameter_entity(url: str) -> str:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n<!ENTITY % ext SYSTEM "{url}">\n'
        "%ext;\n]>\n<HealthData>" + RECORD.format(name="w", value="72") + "</HealthData>\n"
    )


def collect(path: Path, connector: AppleHealth | None = None) -> list[Item]:
    return list((connector or AppleHealth()).read(path, ReadContext(), ReadReport()))


def assert_refused(path: Path, match: str, connector: AppleHealth | None = None) -> None:
    items: list[Item] = []
    with pytest.raises(ConnectorError, match=match) as caught:
        # extend keeps what was yielded before the error
        items.extend((connector or AppleHealth()).read(path, ReadContext(), ReadReport()))
    assert items == []  # nothing stored
    assert str(path) in str(caught.value)


def test_billion_laughs_is_refused_without_memory_growth(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(billion_laughs())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert_refused(path, "declares entities")
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50 * 1024  # expanded, it would be gigabytes


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/secret"])
def test_external_entities_are_refused(tmp_path: Path, url: str) -> None:
    path = tmp_path / "export.xml"
    path.write_text(external_entity(url))
    assert_refused(path, "declares entities")


def test_external_parameter_entity_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(parameter_entity("file:///etc/passwd"))
    assert_refused(path, "declares entities")


def test_billion_laughs_inside_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export.xml", billion_laughs())
    assert_refused(path, "declares entities")


def test_external_dtd_is_never_loaded(tmp_path: Path) -> None:
    """A DOCTYPE pointing at an external DTD: ignored, its entities never defined."""
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY name "SECRET-FROM-DTD">')
    path = tmp_path / "export.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE HealthData SYSTEM "{dtd.as_uri()}">\n'
        "<HealthData>"
        + RECORD.format(name="watch", value="72")
        + RECORD.format(name="&name;", value="73")
        + "</HealthData>\n"
    )
    report = ReadReport()
    try:
        items = list(AppleHealth().read(path, ReadContext(), report))
    except ConnectorError as exc:  # an undefined entity is also an acceptable outcome
        assert "SECRET" not in str(exc)
        return
    names = {item.source.name for item in items}
    assert not any("SECRET" in name for name in names)
    assert report.notes["external DTD reference ignored (never loaded)"] == 1
    assert sum(len(i) for i in items if isinstance(i, SampleBatch)) >= 1


def test_undeclared_entity_reference_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text("<HealthData>" + RECORD.format(name="&xxe;", value="72") + "</HealthData>")
    assert_refused(path, "malformed XML")


def test_zip_bomb_by_ratio_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("apple_health_export/export.xml", "w") as member,
    ):
        member.write(b"<HealthData>")
        chunk = b" " * (1 << 20)
        for _ in range(8):
            member.write(chunk)
        member.write(b"</HealthData>")
    assert_refused(path, "zip bomb")


def test_declared_size_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "apple_health_export/export.xml",
            "<HealthData>" + RECORD.format(name="w", value="72") * 50 + "</HealthData>",
        )
    connector = AppleHealth()
    connector.max_total_bytes = 1000
    assert_refused(path, "over the limit", connector)
    assert collect(path)  # under the default limit it reads


@pytest.mark.parametrize(
    "member", ["../../etc/cron.d/evil", "/tmp/evil.xml", "apple_health_export/../../evil.xml"]
)
def test_zip_slip_is_refused(tmp_path: Path, member: str) -> None:
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "apple_health_export/export.xml",
            "<HealthData>" + RECORD.format(name="w", value="72") + "</HealthData>",
        )
        archive.writestr(zipfile.ZipInfo(member), "x")
    assert_refused(path, "zip-slip")


@pytest.mark.parametrize(
    "decoy",
    [
        "<!-- <HealthData> -->",  # a root tag inside a comment
        "<?decoy <HealthData> ?>",  # ... inside a processing instruction
        '<!NOTATION n SYSTEM "<HealthData>">',  # ... inside a literal
    ],
)
def test_entity_declared_after_a_decoy_root_tag_is_refused(tmp_path: Path, decoy: str) -> None:
    path = tmp_path / "export.xml"
    path.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n{decoy}\n'
        '<!ENTITY xxe SYSTEM "file:///etc/passwd">\n<!ENTITY lol "lol">\n]>\n'
        '<HealthData><ExportDate value="x"/>'
        + RECORD.format(name="&lol;", value="72")
        + "&xxe;</HealthData>\n"
    )
    assert_refused(path, "declares entities")
