"""Local time resolution (DST gaps and folds) and cortisol unit conversion: pure functions."""

from __future__ import annotations

import datetime as dt

import pytest

from service.core import localtime, units

BERLIN = "Europe/Berlin"


def test_a_time_with_an_offset_is_taken_as_it_is():
    resolved = localtime.to_utc(dt.datetime.fromisoformat("2024-05-04T10:00:00-04:00"), BERLIN)
    assert resolved.utc == dt.datetime(2024, 5, 4, 14, 0, tzinfo=dt.UTC)
    assert resolved.note is None


def test_a_naive_time_is_read_in_the_zone():
    summer = localtime.to_utc(dt.datetime(2024, 7, 1, 10, 0), BERLIN)
    winter = localtime.to_utc(dt.datetime(2024, 1, 15, 10, 0), BERLIN)
    assert summer.utc == dt.datetime(2024, 7, 1, 8, 0, tzinfo=dt.UTC)
    assert winter.utc == dt.datetime(2024, 1, 15, 9, 0, tzinfo=dt.UTC)


def test_a_time_in_the_spring_forward_gap_is_refused():
    with pytest.raises(localtime.LocalTimeError, match="does not exist in Europe/Berlin"):
        localtime.to_utc(dt.datetime(2024, 3, 31, 2, 30), BERLIN)
    # One minute before the gap is fine.
    assert localtime.to_utc(dt.datetime(2024, 3, 31, 1, 59), BERLIN).utc.hour == 0


def test_an_ambiguous_time_takes_the_first_instant_and_says_so():
    resolved = localtime.to_utc(dt.datetime(2024, 10, 27, 2, 30), BERLIN)
    assert resolved.utc == dt.datetime(2024, 10, 27, 0, 30, tzinfo=dt.UTC)  # still +02:00
    assert resolved.note and "twice" in resolved.note and "+02:00" in resolved.note
    # The second one is reachable with an explicit offset.
    second = localtime.to_utc(dt.datetime.fromisoformat("2024-10-27T02:30:00+01:00"), BERLIN)
    assert second.utc == dt.datetime(2024, 10, 27, 1, 30, tzinfo=dt.UTC) and second.note is None


def test_local_shows_wall_clock_and_offset():
    instant = dt.datetime(2024, 10, 27, 1, 30, tzinfo=dt.UTC)
    assert localtime.local(instant, BERLIN).isoformat() == "2024-10-27T02:30:00+01:00"
    assert localtime.local(instant, "America/New_York").isoformat() == "2024-10-26T21:30:00-04:00"


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01T00:00", ""])
def test_parse_refuses_non_iso_text(text):
    with pytest.raises(localtime.LocalTimeError):
        localtime.parse(text)


def test_out_of_range_times_are_refused():
    with pytest.raises(localtime.LocalTimeError):
        localtime.to_utc(dt.datetime(1, 1, 1, 0, 30), BERLIN)
    with pytest.raises(localtime.LocalTimeError):
        localtime.to_utc(dt.datetime(9999, 12, 31, tzinfo=dt.UTC), BERLIN)


def test_cortisol_conversion_factor():
    # 1 µg/dL = 10 µg/L; / 362.46 g/mol = 27.589 nmol/L
    assert units.cortisol_nmol_l(1, "ug/dL") == pytest.approx(27.589, abs=1e-3)
    assert units.cortisol_nmol_l(12.5, "µg/dL") == pytest.approx(344.86, abs=0.01)
    assert units.cortisol_nmol_l(15.2, "nmol/L") == 15.2


@pytest.mark.parametrize(
    "spelling, canonical",
    [
        ("ug/dL", "ug/dL"),
        ("µg/dL", "ug/dL"),
        ("μg/dl", "ug/dL"),
        ("mcg/dL", "ug/dL"),
        ("UG/DL", "ug/dL"),
        ("nmol/L", "nmol/L"),
        ("nmol/l", "nmol/L"),
        (" nmol/L ", "nmol/L"),
    ],
)
def test_unit_spellings(spelling, canonical):
    assert units.canonical_unit(spelling) == canonical


@pytest.mark.parametrize("unit", ["mg/dL", "mg/L", "mmol/L", ""])
def test_unknown_units_are_refused(unit):
    with pytest.raises(units.UnitError, match="nmol/L"):
        units.canonical_unit(unit)
