"""The Apple Health connector against generated exports (exact ground truth) and real samples."""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from connectors import apple_health
from connectors.apple_health import (
    AppleHealth,
    make_source,
    parse_date,
    parse_dates,
    parse_device,
)
from connectors.base import (
    ConnectorError,
    Episode,
    ReadContext,
    ReadReport,
    SampleBatch,
)
from connectors.registry import detect
from tests.support.generators.apple import AppleTruth, write_export


@dataclass
class Result:
    report: ReadReport
    batches: list[SampleBatch] = field(default_factory=list)
    episodes: list[Episode] = field(default_factory=list)

    def samples(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for batch in self.batches:
            counts[batch.metric] += len(batch)
        return counts


def read(path: Path, report: ReadReport | None = None) -> Result:
    result = Result(report or ReadReport())
    for item in AppleHealth().read(path, ReadContext(), result.report):
        if isinstance(item, SampleBatch):
            result.batches.append(item)
        else:
            result.episodes.append(item)
    return result


@pytest.fixture(scope="module")
def zipped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, AppleTruth]:
    path = tmp_path_factory.mktemp("apple") / "export.zip"
    return path, write_export(path, days=4, seed=11, ecg_count=2)


@pytest.fixture(scope="module")
def zipped_result(zipped: tuple[Path, AppleTruth]) -> Result:
    return read(zipped[0])


def test_counts_match_ground_truth(zipped: tuple[Path, AppleTruth], zipped_result: Result) -> None:
    _path, truth = zipped
    assert zipped_result.samples() == truth.samples
    assert Counter(e.kind for e in zipped_result.episodes) == truth.episodes
    assert zipped_result.report.skipped == truth.skipped
    rejected = zipped_result.report.rejected
    assert rejected["heart_rate out of physiological bounds"] == truth.rejected["heart_rate"]
    assert rejected["rr_interval out of physiological bounds"] == truth.rejected["rr_interval"]
    assert sum(rejected.values()) == sum(truth.rejected.values())


def test_generated_export_exercises_the_quirks(zipped: tuple[Path, AppleTruth]) -> None:
    # Guards the fixture itself: the cases below must be present to be tested.
    _path, truth = zipped
    assert truth.dst_corrections >= 1 and truth.midnight_lists >= 1
    assert set(truth.beat_variants) == set(apple_health_variants())
    assert truth.rejected["heart_rate"] >= 1 and truth.ecg_files == 2


def apple_health_variants() -> tuple[str, ...]:
    from tests.support.generators.apple import BEAT_TIME_VARIANTS

    return BEAT_TIME_VARIANTS


def test_daylight_saving_corrections_are_counted(
    zipped: tuple[Path, AppleTruth], zipped_result: Result
) -> None:
    notes = zipped_result.report.notes
    dst = [count for what, count in notes.items() if "daylight saving" in what]
    assert sum(dst) == zipped[1].dst_corrections


def test_every_beat_lies_within_its_record(zipped_result: Result) -> None:
    """Beats (also the DST-shifted and the midnight ones) fall inside an SDNN record."""
    sdnn = np.sort(np.concatenate([b.ts for b in zipped_result.batches if b.metric == "hrv_sdnn"]))
    beats = np.concatenate(
        [b.ts for b in zipped_result.batches if b.metric == "rr_interval" and b.source.kind == "watch"]
    )
    record = np.searchsorted(sdnn, beats, side="right") - 1
    assert (record >= 0).all()
    after_start_s = (beats - sdnn[record]) / 1e6
    assert (after_start_s >= 0).all() and (after_start_s < 120).all()


def test_rr_intervals_have_centisecond_precision(zipped_result: Result) -> None:
    rr = np.concatenate(
        [b.value for b in zipped_result.batches if b.metric == "rr_interval" and b.source.kind == "watch"]
    )
    assert rr.size and np.allclose(rr % 10, 0)


def test_motion_context_is_kept_as_tags(zipped: tuple[Path, AppleTruth], zipped_result: Result) -> None:
    contexts: Counter[str] = Counter()
    for batch in zipped_result.batches:
        if batch.metric == "heart_rate":
            contexts[batch.tags["motion_context"] if batch.tags else "none"] += len(batch)
        else:
            assert batch.tags is None
    assert contexts == zipped[1].motion_contexts


def test_sources_are_distinct_and_stable(zipped_result: Result) -> None:
    kinds = {b.source.key: b.source.kind for b in zipped_result.batches}
    kinds.update({e.source.key: e.source.kind for e in zipped_result.episodes})
    assert sorted(kinds.values()) == sorted(["watch", "phone", "chest_strap", "app", "ecg"])
    # The watch's software changes mid-export and every record has another
    # device address: still one source.
    for key in kinds:
        assert "0x" not in key and "software" not in key and "10.1" not in key


def test_spo2_is_stored_as_percent(zipped_result: Result) -> None:
    spo2 = np.concatenate([b.value for b in zipped_result.batches if b.metric == "spo2"])
    assert spo2.min() >= 90 and spo2.max() <= 100


def test_ecg_rr_matches_the_synthetic_beats(zipped: tuple[Path, AppleTruth], zipped_result: Result) -> None:
    ecg = [b for b in zipped_result.batches if b.source.kind == "ecg"]
    assert sum(len(b) for b in ecg) == zipped[1].ecg_rr
    for batch, truth_ms in zip(ecg, zipped[1].ecg_beats_ms, strict=True):
        truth_rr = np.diff(truth_ms)
        assert np.max(np.abs(batch.value - truth_rr)) < 2 * 1000 / 512  # two samples


def test_timestamps_and_offsets_match_the_xml(tmp_path: Path) -> None:
    """Bulk date parsing agrees with datetime on every heart-rate record."""
    path = tmp_path / "export.xml"
    write_export(path, days=2, seed=5, layout="xml")
    expected = set()
    for _event, elem in etree.iterparse(str(path), tag="Record"):
        if elem.get("type") == "HKQuantityTypeIdentifierHeartRate":
            moment = dt.datetime.strptime(elem.get("startDate"), "%Y-%m-%d %H:%M:%S %z")
            if float(elem.get("value")) <= 250:
                expected.add(
                    (
                        int(moment.timestamp()) * 1_000_000,
                        int(moment.utcoffset().total_seconds()),
                        float(elem.get("value")),
                    )
                )
    got = set()
    for batch in read(path).batches:
        if batch.metric == "heart_rate":
            got.update(
                (int(t), batch.utc_offset_s, float(v)) for t, v in zip(batch.ts, batch.value, strict=True)
            )
    assert got == expected


@pytest.mark.parametrize("layout", ["folder", "xml"])
def test_layouts_read_the_same(tmp_path: Path, layout: str) -> None:
    target = tmp_path / ("export.xml" if layout == "xml" else "out")
    truth = write_export(
        target,
        days=2,
        seed=3,
        layout=layout,  # type: ignore[arg-type]
        ecg_count=1 if layout == "folder" else 0,
    )
    path = target if layout == "xml" else target / "apple_health_export"
    result = read(path)
    assert result.samples() == truth.samples
    assert Counter(e.kind for e in result.episodes) == truth.episodes
    assert detect(path).name == "apple_health"
    assert detect(target).name == "apple_health"


def test_small_batches_and_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "export.zip"
    truth = write_export(path, days=2, seed=9)
    monkeypatch.setattr(apple_health, "BATCH_SIZE", 100)
    monkeypatch.setattr(apple_health, "PROGRESS_BYTES", 64 * 1024)
    seen: list[int] = []
    report = ReadReport(on_progress=lambda r: seen.append(r.bytes_read))
    result = read(path, report)
    assert result.samples() == truth.samples
    assert all(len(b) <= 100 for b in result.batches)
    assert len(seen) > 3 and seen == sorted(seen)
    assert report.bytes_total == truth.xml_bytes == seen[-1]


def test_items_are_streamed_before_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "export.xml"
    write_export(path, days=3, seed=2, layout="xml")
    monkeypatch.setattr(apple_health, "BATCH_SIZE", 50)
    report = ReadReport()
    first = next(iter(AppleHealth().read(path, ReadContext(), report)))
    assert isinstance(first, SampleBatch)
    assert report.bytes_total is not None
    # Nothing was reported yet at the end of the file: reading is still going on.
    assert report.bytes_read < report.bytes_total


# -- handcrafted records ------------------------------------------------------

WATCH_DEVICE = (
    "&lt;&lt;HKDevice: 0x283a5d1d0&gt;, name:Apple Watch, manufacturer:Apple Inc., "
    "model:Watch, hardware:Watch6,2, software:10.1&gt;"
)


def export(tmp_path: Path, body: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n') -> Path:
    path = tmp_path / "export.xml"
    path.write_text(
        f'{prolog}<HealthData locale="en_US">\n'
        '<ExportDate value="2024-05-05 10:00:00 +0200"/>\n'
        f"{body}</HealthData>\n",
        encoding="utf-8",
    )
    return path


def hr(
    value: str,
    start: str = "2024-05-04 07:00:00 +0200",
    unit: str = "count/min",
    kind: str = "HKQuantityTypeIdentifierHeartRate",
) -> str:
    return (
        f'<Record type="{kind}" sourceName="Alex’s Apple Watch" device="{WATCH_DEVICE}" '
        f'unit="{unit}" startDate="{start}" endDate="{start}" value="{value}"/>\n'
    )


def test_bad_values_dates_and_units_are_rejected_and_counted(tmp_path: Path) -> None:
    body = (
        hr("61")
        + hr("abc")
        + hr("62", start="2024-05-04T07:00:00Z")
        + hr("63", unit="count/s")
        + hr("0.45", kind="HKQuantityTypeIdentifierOxygenSaturation", unit="%")
        + '<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="x" '
        'startDate="2024-05-04 01:00:00 +0200" endDate="2024-05-04 02:00:00 +0200" '
        'value="HKCategoryValueSleepAnalysisDreaming"/>\n'
    )
    result = read(export(tmp_path, body))
    assert result.samples() == Counter({"heart_rate": 1})
    assert result.report.rejected == Counter(
        {
            "heart_rate is not a number": 1,  # "abc" (issue 16: not "out of bounds")
            "unparseable date": 1,
            "heart_rate in unexpected unit 'count/s'": 1,
            "spo2 out of physiological bounds": 1,  # 45 % is refused as implausible
            "unknown sleep value 'HKCategoryValueSleepAnalysisDreaming'": 1,
        }
    )


def test_negative_offsets_and_episode_times(tmp_path: Path) -> None:
    body = (
        hr("70", start="2018-09-10 02:28:55 -0700")
        + '<Record type="HKCategoryTypeIdentifierMindfulSession" sourceName="Breathe" '
        'startDate="2018-09-10 12:00:00 -0700" endDate="2018-09-10 12:05:00 -0700" '
        'value="HKCategoryValueNotApplicable"/>\n'
    )
    result = read(export(tmp_path, body))
    (batch,) = result.batches
    assert batch.utc_offset_s == -7 * 3600
    assert batch.ts[0] == int(dt.datetime(2018, 9, 10, 9, 28, 55, tzinfo=dt.UTC).timestamp()) * 10**6
    (episode,) = result.episodes
    assert episode.kind == "mindful" and episode.source.kind == "app"
    assert episode.end - episode.start == dt.timedelta(minutes=5)
    assert episode.start.utcoffset() == dt.timedelta(hours=-7)


def test_truncated_xml_names_file_and_line(tmp_path: Path) -> None:
    path = export(tmp_path, hr("61") * 3)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(ConnectorError) as caught:
        read(path)
    assert str(path) in str(caught.value) and caught.value.line is not None


def test_not_an_export(tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text("<?xml version='1.0'?><gpx><trk/></gpx>")
    assert not AppleHealth().sniff(path, path.read_bytes())
    with pytest.raises(ConnectorError, match="HealthData"):
        read(path)
    archive = tmp_path / "other.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("notes.txt", "hello")
    assert not AppleHealth().sniff(archive, archive.read_bytes()[:100])


# -- sources and dates --------------------------------------------------------


def test_device_string_with_commas_in_values() -> None:
    fields = parse_device(
        "<<HKDevice: 0x282a45810>, name:Apple Watch, manufacturer:Apple Inc., "
        "model:Watch, hardware:Watch6,2, software:10.1>"
    )
    assert fields == {
        "name": "Apple Watch",
        "manufacturer": "Apple Inc.",
        "model": "Watch",
        "hardware": "Watch6,2",
        "software": "10.1",
    }


@pytest.mark.parametrize(
    ("name", "device", "kind"),
    [
        (
            "Alex’s Apple Watch",
            (
                "<<HKDevice: 0x1>, name:Apple Watch, manufacturer:Apple Inc., "
                "model:Watch, hardware:Watch6,2, software:10.1>"
            ),
            "watch",
        ),
        (
            "Alex’s iPhone",
            (
                "<<HKDevice: 0x2>, name:iPhone, manufacturer:Apple Inc., model:iPhone, "
                "hardware:iPhone13,2, software:17.4>"
            ),
            "phone",
        ),
        (
            "Polar Flow",
            ("<<HKDevice: 0x3>, name:Polar H10 8A2B3C4D, manufacturer:Polar Electro Oy, model:H10>"),
            "chest_strap",
        ),
        ("HeartWatch", None, "app"),
        ("Apple\u00a0Watch", None, "watch"),
    ],
)
def test_source_kinds(name: str, device: str | None, kind: str) -> None:
    source = make_source(name, device)
    assert source.kind == kind
    assert source.name == name and source.key.startswith(f"apple_health:{name}")


def test_source_key_ignores_address_and_software() -> None:
    one = make_source(
        "W", "<<HKDevice: 0x1>, name:Apple Watch, model:Watch, hardware:Watch6,2, software:10.1>"
    )
    two = make_source(
        "W", "<<HKDevice: 0xffff>, name:Apple Watch, model:Watch, hardware:Watch6,2, software:11.0>"
    )
    other = make_source(
        "W", "<<HKDevice: 0x1>, name:Apple Watch, model:Watch, hardware:Watch7,1, software:10.1>"
    )
    assert one.key == two.key != other.key


def test_bulk_date_parsing_agrees_with_datetime() -> None:
    rng = np.random.default_rng(1)
    texts, expected = [], []
    for _ in range(500):
        offset = dt.timedelta(minutes=int(rng.integers(-12 * 4, 14 * 4)) * 15)
        moment = dt.datetime(1990, 1, 1, tzinfo=dt.UTC) + dt.timedelta(
            seconds=int(rng.integers(0, 60 * 365 * 86400))
        )
        local = moment.astimezone(dt.timezone(offset))
        texts.append(local.strftime("%Y-%m-%d %H:%M:%S %z"))
        expected.append((int(moment.timestamp()) * 1_000_000, int(offset.total_seconds())))
    texts += [
        "2024-13-01 00:00:00 +0000",
        "2024-05-04 07:00:00",
        "2024-05-04T07:00:00+0200",
        "2024-05-04 07:00:00 +02:0",
        "２０２４-05-04 07:00:00 +0200",
    ]
    ts, offsets, ok = parse_dates(texts)
    assert ok.tolist() == [True] * 500 + [False] * 5
    assert list(zip(ts[:500].tolist(), offsets[:500].tolist(), strict=True)) == expected
    for text in texts[:500]:  # the one-at-a-time parser agrees with strptime
        assert parse_date(text) == dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z")
    for text in texts[500:]:
        with pytest.raises(ValueError):
            parse_date(text)


# -- the real third-party samples ---------------------------------------------


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["export.xml", "export.zip"])
def test_real_sample_imports_its_heart_rate(shared_data: Path, name: str) -> None:
    path = shared_data / "apple" / name
    assert detect(path).name == "apple_health"
    expected = []
    raw = (
        path.read_bytes()
        if name.endswith(".xml")
        else zipfile.ZipFile(path).read("apple_health_export/export.xml")
    )
    for elem in etree.fromstring(raw).iter("Record"):
        if elem.get("type") == "HKQuantityTypeIdentifierHeartRate":
            moment = dt.datetime.strptime(elem.get("startDate"), "%Y-%m-%d %H:%M:%S %z")
            expected.append((int(moment.timestamp()) * 1_000_000, float(elem.get("value"))))
    assert expected, "the sample holds heart-rate records"
    result = read(path)
    got = [
        (int(t), float(v))
        for b in result.batches
        if b.metric == "heart_rate"
        for t, v in zip(b.ts, b.value, strict=True)
    ]
    assert sorted(got) == sorted(expected)
    assert all(b.source.kind == "watch" for b in result.batches)
    assert result.report.skipped["Workout"] >= 1


def sdnn(
    times: list[str], start: str = "2024-05-04 07:00:00 +0200", end: str = "2024-05-04 07:01:00 +0200"
) -> str:
    beats = "".join(f'<InstantaneousBeatsPerMinute bpm="60" time="{t}"/>' for t in times)
    return (
        f'<Record type="HKQuantityTypeIdentifierHeartRateVariabilitySDNN" sourceName="W" '
        f'unit="ms" startDate="{start}" endDate="{end}" value="41.5">'
        f"<HeartRateVariabilityMetadataList>{beats}</HeartRateVariabilityMetadataList>"
        "</Record>\n"
    )


def test_beat_lists_that_cannot_be_placed_are_rejected_and_counted(tmp_path: Path) -> None:
    body = (
        sdnn(["7:00:01.10 AM", "7:00:02.00 AM", "7:00:02.95 AM"])  # good: 2 intervals
        + sdnn(["7:00:01.10 AM", "7:00:02.00 XM"])  # unreadable marker
        + sdnn(["7:30:01.10", "7:30:02.00", "7:30:03.00"])  # 30 minutes off
        + sdnn(["8:00:01.10", "8:00:02.00"])
    )  # one hour off: daylight saving
    result = read(export(tmp_path, body))
    rr = [b for b in result.batches if b.metric == "rr_interval"]
    assert sorted(np.concatenate([b.value for b in rr]).tolist()) == [900.0, 900.0, 950.0]
    assert result.samples()["hrv_sdnn"] == 4
    assert result.report.rejected == Counter(
        {
            "rr_interval: unreadable beat time or record date": 1,
            "rr_interval: beat times disagree with the record's startDate": 2,
        }
    )
    assert sum(result.report.notes.values()) == 1


def test_correlation_first_and_records_inside_it_are_not_read_twice(tmp_path: Path) -> None:
    inner = hr("121", kind="HKQuantityTypeIdentifierBloodPressureSystolic", unit="mmHg")
    body = (
        f'<Correlation type="HKCorrelationTypeIdentifierBloodPressure" sourceName="P" '
        f'startDate="2024-05-04 07:00:00 +0200" endDate="2024-05-04 07:00:00 +0200">'
        f"{hr('70')}{inner}</Correlation>\n{inner}{hr('71')}"
    )
    path = export(tmp_path, body, prolog="")
    path.write_text(path.read_text().replace('<ExportDate value="2024-05-05 10:00:00 +0200"/>\n', ""))
    result = read(path)
    assert [v for b in result.batches for v in b.value.tolist()] == [71.0]
    assert result.report.skipped == Counter(
        {"Correlation": 1, "HKQuantityTypeIdentifierBloodPressureSystolic": 1}
    )


def test_generator_is_deterministic(tmp_path: Path) -> None:
    one, two, other = tmp_path / "1.xml", tmp_path / "2.xml", tmp_path / "3.xml"
    for path, seed in ((one, 4), (two, 4), (other, 5)):
        write_export(path, days=1, seed=seed, layout="xml")
    assert one.read_bytes() == two.read_bytes() != other.read_bytes()
