"""The pure parts of cloud sync: record mappings, the sync file's connector, providers' push
parsing and signatures, the throttle and Retry-After. No database, no server."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from connectors import ReadContext, ReadReport, SampleBatch
from connectors.base import Episode
from connectors.cloud_oura import map_record as oura_record
from connectors.cloud_records import CloudRecords
from connectors.cloud_whoop import map_record as whoop_record
from connectors.cloud_whoop import wakes
from connectors.oura import RecordProblem
from service.sync.client import Throttle, retry_after_s
from service.sync.providers import PROVIDERS
from service.sync.providers.base import RateLimit

UTC = dt.UTC


def test_oura_session_gives_series_and_a_mindful_episode_for_meditation():
    record = {
        "type": "meditation",
        "start_datetime": "2024-03-01T10:00:00+01:00",
        "end_datetime": "2024-03-01T10:10:00+01:00",
        "heart_rate": {"interval": 5, "items": [60, None, 58], "timestamp": "2024-03-01T10:00:00+01:00"},
        "heart_rate_variability": {"interval": 5, "items": [41], "timestamp": "2024-03-01T10:00:00+01:00"},
    }
    mapped = oura_record("session", record)
    assert [(s.metric, s.value) for s in mapped.samples] == [
        ("heart_rate", 60.0),
        ("heart_rate", 58.0),
        ("hrv_rmssd", 41.0),
    ]
    assert mapped.samples[1].ts_us - mapped.samples[0].ts_us == 10_000_000  # item 2 at +10 s
    assert [e.kind for e in mapped.episodes] == ["mindful"]
    assert mapped.skipped == {"Oura heart_rate item without a value (null)": 1}
    rest = oura_record("session", {**record, "type": "rest"})
    assert rest.episodes == [] and sum(rest.skipped.values()) == 2


def test_oura_records_missing_their_fields_are_refused_not_skipped():
    with pytest.raises(RecordProblem, match="missing bedtime_start"):
        oura_record("sleep", {"day": "2024-03-01"})
    with pytest.raises(RecordProblem, match="end_datetime"):
        oura_record("session", {"start_datetime": "2024-03-01T10:00:00+01:00"})
    with pytest.raises(RecordProblem, match="not mapped"):
        oura_record("daily_activity", {})


def test_whoop_recovery_is_timed_at_its_sleep_end_else_at_created_at():
    sleep = {
        "id": "s1",
        "start": "2024-03-01T22:00:00-05:00",
        "end": "2024-03-02T06:00:00-05:00",
        "timezone_offset": "-05:00",
        "nap": False,
        "score_state": "SCORED",
        "score": {"respiratory_rate": 15.0},
    }
    recovery = {
        "sleep_id": "s1",
        "created_at": "2024-03-02T11:20:00Z",
        "score_state": "SCORED",
        "score": {
            "recovery_score": 66,
            "resting_heart_rate": 52,
            "hrv_rmssd_milli": 61.25,
            "spo2_percentage": 95.5,
            "skin_temp_celsius": 33.9,
            "user_calibrating": True,
        },
    }
    ends = wakes([("sleep", sleep)])
    mapped = whoop_record("recovery", recovery, ends)
    wake_us = int(dt.datetime(2024, 3, 2, 11, tzinfo=UTC).timestamp() * 1_000_000)
    assert {(s.metric, s.value, s.ts_us, s.utc_offset_s) for s in mapped.samples} == {
        ("vendor_recovery", 66.0, wake_us, -18000),
        ("resting_heart_rate", 52.0, wake_us, -18000),
        ("hrv_rmssd", 61.25, wake_us, -18000),
        ("spo2", 95.5, wake_us, -18000),
    }
    assert mapped.notes == {"WHOOP recovery scored while calibrating": 1}
    alone = whoop_record("recovery", recovery, {})
    created_us = int(dt.datetime(2024, 3, 2, 11, 20, tzinfo=UTC).timestamp() * 1_000_000)
    assert {s.ts_us for s in alone.samples} == {created_us}
    assert "WHOOP recovery timed at created_at (its sleep not in this batch)" in alone.notes
    with pytest.raises(RecordProblem, match="score.hrv_rmssd_milli is not a number"):
        whoop_record("recovery", {**recovery, "score": {"hrv_rmssd_milli": "61"}}, ends)
    with pytest.raises(RecordProblem, match="ends before it starts"):
        whoop_record("sleep", {**sleep, "end": "2024-03-01T21:00:00-05:00"}, {})


def _read(tmp_path: Path, provider: str, lines: list[str]) -> tuple[list, ReadReport]:
    path = tmp_path / f"{provider}.ndjson"
    path.write_text("\n".join(lines) + "\n")
    report = ReadReport()
    items = list(CloudRecords(provider).read(path, ReadContext(tz="Europe/Berlin"), report))
    return items, report


def test_the_sync_file_connector_counts_every_bad_line_and_never_raises(tmp_path):
    good = {
        "provider": "oura",
        "type": "heartrate",
        "record": {"bpm": 61, "source": "awake", "timestamp": "2024-03-01T08:00:00+01:00"},
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"provider": "oura", "type": "sleep"}),
        json.dumps({**good, "provider": "whoop"}),
        json.dumps({**good, "record": {**good["record"], "bpm": 400}}),
        json.dumps({**good, "record": {"bpm": 60, "timestamp": "2024-03-01T08:00:00"}}),
    ]
    items, report = _read(tmp_path, "oura", lines)
    assert [(i.metric, list(i.value), i.tags) for i in items if isinstance(i, SampleBatch)] == [
        ("heart_rate", [61.0], {"oura_source": "awake"})
    ]
    assert report.rejected == {
        "line is not JSON (oura.ndjson, first at line 2)": 1,
        "line is not an object with type and record (oura.ndjson, first at line 3)": 1,
        "record of another provider ('whoop') (oura.ndjson, first at line 4)": 1,
        "heart_rate out of plausible bounds (oura.ndjson)": 1,
        "oura heartrate: timestamp without a UTC offset (oura.ndjson, first at line 6)": 1,
    }


def test_the_sync_file_connector_reads_whoop_with_sources_of_the_export(tmp_path):
    sleep = {
        "id": "s1",
        "start": "2024-03-01T22:00:00-05:00",
        "end": "2024-03-02T06:00:00-05:00",
        "timezone_offset": "-05:00",
        "nap": True,
        "score_state": "PENDING_SCORE",
    }
    items, report = _read(
        tmp_path, "whoop", [json.dumps({"provider": "whoop", "type": "sleep", "record": sleep})]
    )
    assert len(items) == 1 and isinstance(items[0], Episode)
    assert items[0].source.key == "whoop" and items[0].kind == "in_bed"
    assert report.skipped == {"WHOOP sleep not scored (PENDING_SCORE)": 1}


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"event_type": "update", "data_type": "sleep", "user_id": "u", "object_id": "o"}, "sleep"),
        ({"event_type": "delete", "data_type": "sleep", "user_id": "u", "object_id": "o"}, None),
        ({"event_type": "create", "data_type": "workout", "user_id": "u", "object_id": "o"}, None),
    ],
)
def test_oura_push_names_a_data_type_only_when_there_is_something_to_fetch(body, expected):
    event = PROVIDERS["oura"].read_push(body)
    assert event is not None and event.external_user_id == "u" and event.data_type == expected


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("recovery.updated", "recovery"),
        ("sleep.updated", "sleep"),
        ("workout.updated", None),
        ("sleep.deleted", None),
    ],
)
def test_whoop_push_types(kind, expected):
    event = PROVIDERS["whoop"].read_push({"user_id": 7, "id": "x", "type": kind})
    assert event is not None and event.external_user_id == "7" and event.data_type == expected
    assert PROVIDERS["whoop"].read_push({"id": "x"}) is None


def test_push_signatures_need_both_headers():
    for provider in PROVIDERS.values():
        assert not provider.verify_push("secret", {}, b"{}")


def test_throttle_is_a_token_bucket_with_a_retry_after_barrier():
    throttle = Throttle(RateLimit(2, 60.0))
    assert throttle.delay() == 0 and throttle.delay() == 0
    assert 25 < throttle.delay() <= 30  # the third request waits for a token (1 per 30 s)
    fresh = Throttle(RateLimit(100, 1.0))
    fresh.hold_off(5)
    assert 4 < fresh.delay() <= 5


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_s("7", 1.0) == 7.0
    assert retry_after_s(None, 3.0) == 3.0 and retry_after_s("soon", 3.0) == 3.0
    later = dt.datetime.now(UTC) + dt.timedelta(seconds=90)
    header = later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 80 < retry_after_s(header, 1.0) <= 90


def test_fitbit_intraday_points_are_utc_and_bad_points_are_counted():
    from connectors.cloud_fitbit import map_record as fitbit_record

    record = {
        "date": "2024-03-31",
        "activities-heart-intraday": {
            "dataset": [
                {"time": "01:30:00", "value": 61},
                {"time": "25:00:00", "value": 60},
                {"time": "02:30:00", "value": None},
                {"time": "03:30:00", "value": "62"},
            ]
        },
    }
    mapped = fitbit_record("heart_intraday", record)
    # 2024-03-31 is a daylight-saving day in Europe; UTC times are taken as they are.
    assert [(s.ts_us, s.value) for s in mapped.samples] == [
        (int(dt.datetime(2024, 3, 31, 1, 30, tzinfo=UTC).timestamp() * 1e6), 61.0)
    ]
    assert mapped.rejected == {"Fitbit intraday heart rate point unreadable": 2}
    assert mapped.skipped == {"Fitbit intraday heart rate point without a value": 1}
    with pytest.raises(RecordProblem, match="dataset"):
        fitbit_record("heart_intraday", {"date": "2024-03-31"})


def test_fitbit_sleep_is_read_in_the_persons_zone():
    from zoneinfo import ZoneInfo

    from connectors.cloud_fitbit import map_record as fitbit_record

    berlin = ZoneInfo("Europe/Berlin")
    record = {
        "startTime": "2024-01-10T23:00:00.000",
        "endTime": "2024-01-11T07:00:00.000",
        "levels": {
            "data": [
                {"dateTime": "2024-01-10T23:00:00.000", "level": "light", "seconds": 600},
                {"dateTime": "2024-01-10T23:10:00.000", "level": "snoring", "seconds": 60},
            ]
        },
    }
    mapped = fitbit_record("sleep", record, berlin)
    assert [(e.kind, e.start.astimezone(UTC).hour) for e in mapped.episodes] == [
        ("in_bed", 22),
        ("asleep_core", 22),
    ]
    assert mapped.rejected == {"Fitbit sleep level unknown or without a duration": 1}
