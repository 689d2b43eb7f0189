"""The hostile-input corpus: files written by the project, each with its expected outcome.

Every :class:`Case` builds its file (or zip, or folder) in a directory and
says what reading it must give: a :class:`Fails` (a ``ConnectorError`` whose
message names the file and says why) or a :class:`Reads` (samples kept, and
rejections counted by reason). The cases cover issue 16's defects 4, 5 and
the connector parts of 14, and the classic attacks: entity bombs and
external entities, zip bombs, zip-slip, symbolic links, truncations of every
format, wrong encodings, impossible values, dates and offsets, and files
whose name says one format and whose bytes say another.

``python -m tests.hostile.corpus DIR`` writes the whole corpus to ``DIR``
(one sub-folder per case) for manual runs such as ``vagus import``.
"""

from __future__ import annotations

import datetime as dt
import io
import stat
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from connectors import SampleBatch
from connectors.base import AFTER_CLOCK_BROKEN, CLOCK_BROKEN, Item
from tests.hostile.seeds import START, seed

BERLIN = "Europe/Berlin"
UNIX_START = START.timestamp()


@dataclass(frozen=True)
class Fails:
    """Reading raises ConnectorError naming the file; ``says`` is part of the message."""

    says: str
    line: int | None = None


@dataclass(frozen=True)
class Reads:
    """Reading completes with ``samples`` samples (None: any, at least one) and, for each
    reason fragment in ``rejected``, that many rejections whose reason contains it."""

    samples: int | None = None
    rejected: dict[str, int] = field(default_factory=dict)
    check: Callable[[list[Item]], None] | None = None


@dataclass(frozen=True)
class Case:
    name: str  # what is written in the case's folder (a file, zip or folder name)
    build: Callable[[Path], None]  # writes ``name`` into the given folder
    expect: Fails | Reads
    format: str | None = None  # read as this format (``--format``), else detected
    tz: str = "UTC"
    pipeline: bool = False  # also run through the import pipeline on a database

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        self.build(folder)
        return folder / self.name


# -- builders -------------------------------------------------------------------------


def _file(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(data)


def _lines(*lines: str, end: str = "\n", encoding: str = "utf-8") -> bytes:
    return end.join(lines).encode(encoding) + end.encode(encoding)


def _sparse(name: str, head: bytes, size: int) -> Callable[[Path], None]:
    """``head`` then zeros up to ``size`` bytes, without writing the zeros (a sparse file)."""

    def build(folder: Path) -> None:
        with (folder / name).open("wb") as handle:
            handle.write(head)
            handle.truncate(size)

    return build


def _zip(
    name: str,
    members: dict[str, bytes],
    *,
    links: dict[str, str] | None = None,
    declared: dict[str, int] | None = None,
) -> Callable[[Path], None]:
    """A zip of ``members``; ``links`` adds symbolic-link members (name -> target);
    ``declared`` overwrites a member's declared uncompressed size in the central directory."""

    def build(folder: Path) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for member, data in members.items():
                archive.writestr(member, data)
            for member, target in (links or {}).items():
                info = zipfile.ZipInfo(member)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                archive.writestr(info, target)
        data = buffer.getvalue()
        for member, size in (declared or {}).items():
            data = _declare_size(data, member.encode(), size)
        (folder / name).write_bytes(data)

    return build


def _declare_size(data: bytes, member: bytes, size: int) -> bytes:
    """The zip with ``member``'s uncompressed size in its central directory set to ``size``."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at >= 0:
        name_length = int.from_bytes(out[at + 28 : at + 30], "little")
        if out[at + 46 : at + 46 + name_length] == member:
            out[at + 24 : at + 28] = size.to_bytes(4, "little")
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)


def _seed_folder(name: str, connector: str, replace: dict[str, bytes]) -> Callable[[Path], None]:
    """The connector's seed export (a folder), with some files replaced by name suffix."""
    base = seed(connector)

    def build(folder: Path) -> None:
        files = dict(base.files)
        for suffix, data in replace.items():
            (match,) = [n for n in files if n.endswith(suffix)]
            files[match] = data
        root = folder / name
        for member, data in files.items():
            (root / member).parent.mkdir(parents=True, exist_ok=True)
            (root / member).write_bytes(data)

    return build


def _seed_file(connector: str) -> bytes:
    (data,) = seed(connector).files.values()
    return data


def _cut(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


# -- formats ------------------------------------------------------------------------

APPLE_PROLOG = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE HealthData [\n<!ELEMENT HealthData (Record)*>\n]>\n'
)


def apple(*records: str, prolog: str = APPLE_PROLOG) -> bytes:
    return (prolog + '<HealthData locale="en_US">\n' + "".join(records) + "</HealthData>\n").encode()


def apple_hr(value: str, date: str = "2024-05-04 10:00:00 +0200") -> str:
    return (
        f'<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" '
        f'unit="count/min" startDate="{date}" endDate="{date}" value="{value}"/>\n'
    )


def apple_steps(count: int) -> str:
    return (
        f'<Record type="HKQuantityTypeIdentifierStepCount" sourceName="Phone" unit="count" '
        f'startDate="2024-05-04 10:00:00 +0200" endDate="2024-05-04 10:01:00 +0200" '
        f'value="{count}"/>\n'
    )


def apple_sleep(start: str, end: str) -> str:
    return (
        '<Record type="HKCategoryTypeIdentifierSleepAnalysis" sourceName="Watch" '
        f'startDate="{start}" endDate="{end}" '
        'value="HKCategoryValueSleepAnalysisAsleepCore"/>\n'
    )


def ecg_csv(date: str) -> bytes:
    values = "\n".join(str(round(100 * np.sin(i / 10), 3)) for i in range(600))
    return (f"Name,Someone\nRecorded Date,{date}\nSample Rate,512 hertz\nUnit,µV\n\n{values}\n").encode()


def rr_values(count: int = 120, base: int = 800) -> list[str]:
    return [str(base + (i * 37) % 100) for i in range(count)]


def hr_rows(count: int = 20, zone: str = "Z") -> list[str]:
    return [f"2024-05-04T10:{i // 60:02d}:{i % 60:02d}{zone},{60 + i % 20}" for i in range(count)]


def psl_rows(values: list[str], start: dt.datetime = dt.datetime(2024, 5, 4, 10)) -> list[str]:
    """Polar Sensor Logger rows whose phone time is the beat time (one beat per row); a
    value that is no interval still takes 800 ms of phone time, as a real beat would."""
    rows, clock = [], start
    for value in values:
        number = float(value)
        usable = np.isfinite(number) and 0 < number <= 60_000
        clock += dt.timedelta(milliseconds=number if usable else 800)
        rows.append(f"{clock.isoformat(timespec='milliseconds')};{value}")
    return rows


def ibi(rows: list[str], start: float = UNIX_START) -> bytes:
    return _lines(f"{start:.6f}, IBI", *rows)


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


# -- checks on what was read -------------------------------------------------------------


def _batches(items: list[Item], metric: str = "rr_interval") -> tuple[np.ndarray, np.ndarray]:
    found = [i for i in items if isinstance(i, SampleBatch) and i.metric == metric]
    return (np.concatenate([b.ts for b in found]), np.concatenate([b.value for b in found]))


def beats_end_by(limit: dt.datetime) -> Callable[[list[Item]], None]:
    """Every beat lies between START and ``limit`` (no beat moved years ahead)."""

    def check(items: list[Item]) -> None:
        ts, _ = _batches(items)
        low, high = START.timestamp() * 1e6, limit.timestamp() * 1e6
        assert ((ts >= low) & (ts <= high)).all(), (ts.min(), ts.max())

    return check


def psl_beats_on_phone_clock(items: list[Item]) -> None:
    """Polar Sensor Logger beats after a rejected row stay on the phone clock (within 1 s)."""
    ts, _ = _batches(items)
    last_phone = dt.datetime(2024, 5, 4, 10, tzinfo=dt.UTC) + dt.timedelta(milliseconds=800 * 121)
    assert ts.max() == round(last_phone.timestamp() * 1e6), (ts.max(), last_phone)


# -- the cases -------------------------------------------------------------------------

_RR_BAD = {
    "huge": "99999999999",
    "nan": "nan",
    "inf": "inf",
    "1e308": "1e308",
    "negative": "-800",
    "zero": "0",
}
_GOOD_50 = dt.datetime(2024, 5, 4, 8, 1, tzinfo=dt.UTC)  # 50 beats of 800-899 ms: < 46 s


def _cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    # Defect 5: line endings, line length, nothing readable.
    rr = rr_values(120)
    for label, end in (("cr", "\r"), ("crlf", "\r\n"), ("lf", "\n")):
        add(
            Case(
                f"rr_{label}.txt",
                _file(f"rr_{label}.txt", _lines("RR", *rr, end=end)),
                Reads(120),
                pipeline=label == "cr",
            )
        )
        add(
            Case(
                f"hr_{label}.csv",
                _file(f"hr_{label}.csv", _lines("timestamp,bpm", *hr_rows(), end=end)),
                Reads(20),
            )
        )
    mixed = "RR\n" + "".join(v + ("\n", "\r\n", "\r")[i % 3] for i, v in enumerate(rr))
    add(Case("rr_mixed.txt", _file("rr_mixed.txt", mixed.encode()), Reads(120)))
    add(
        Case(
            "rr_csv_cr.csv",
            _file(
                "rr_csv_cr.csv", _lines("time,rr", *[f"{i * 0.8:.1f},800" for i in range(1, 41)], end="\r")
            ),
            Reads(40),
        )
    )
    add(
        Case(
            "psl_cr.txt",
            _file(
                "psl_cr.txt", _lines("Phone timestamp;RR-interval [ms]", *psl_rows(["800"] * 30), end="\r")
            ),
            Reads(30),
        )
    )
    add(
        Case(
            "IBI.csv",
            _file("IBI.csv", ibi([f"{10 + i * 0.8:.3f},0.8" for i in range(30)]).replace(b"\n", b"\r")),
            Reads(30),
        )
    )
    add(
        Case(
            "long_line.txt",
            _sparse("long_line.txt", b"800", 200 << 20),
            Fails("line longer than", line=1),
            format="rr_text",
            pipeline=True,
        )
    )
    add(
        Case(
            "long_line_detected.txt",
            _sparse("long_line_detected.txt", b"800", 200 << 20),
            Fails("format not recognised"),
        )
    )
    add(
        Case(
            "long_row.csv",
            _file("long_row.csv", b"timestamp,bpm\n" + b"1" * (2 << 20)),
            Fails("line longer than", line=2),
        )
    )
    add(
        Case(
            "long_field.csv",
            _file("long_field.csv", b'timestamp,bpm\n"' + b"a" * 200_000 + b'",60\n'),
            Fails("field larger than field limit", line=2),
        )
    )
    add(
        Case(
            "long_ibi",
            _seed_folder("long_ibi", "empatica_e4", {"IBI.csv": b"1714809600, IBI\n" + b"1" * (3 << 20)}),
            Fails("line longer than", line=2),
        )
    )
    add(
        Case(
            "hr_header_only.csv",
            _file("hr_header_only.csv", b"timestamp,bpm\n"),
            Fails("nothing readable"),
            pipeline=True,
        )
    )
    add(
        Case(
            "rr_header_only.txt",
            _file("rr_header_only.txt", b"RR\r\n"),
            Fails("nothing readable"),
            format="rr_text",
        )
    )
    add(Case("blank.txt", _file("blank.txt", b"\n\r\n  \r\n"), Fails("nothing readable"), format="rr_text"))
    add(Case("empty.csv", _file("empty.csv", b""), Fails("empty file"), format="hr_csv"))
    add(
        Case(
            "steps_only.xml",
            _file("steps_only.xml", apple(apple_steps(10), apple_steps(20))),
            Fails("nothing readable"),
            pipeline=True,
        )
    )
    add(
        Case(
            "ibi_header_only",
            _seed_folder(
                "ibi_header_only",
                "empatica_e4",
                {"IBI.csv": b"1714809600, IBI\n", "HR.csv": b"1714809600\n1\n"},
            ),
            Fails("nothing readable"),
        )
    )
    add(
        Case(
            "all_rejected.csv",
            _file(
                "all_rejected.csv",
                _lines("timestamp,bpm", *[r.rsplit(",", 1)[0] + ",400" for r in hr_rows(5)]),
            ),
            Fails("nothing readable: no samples or episodes found (rejected: 5 heart_rate out"),
        )
    )

    # Defect 4: a corrupt interval in a cumulative clock moves no later beat.
    for label, value in _RR_BAD.items():
        add(
            Case(
                f"rr_{label}_interval.txt",
                _file(f"rr_{label}_interval.txt", _lines("RR", *rr[:50], value, *rr[: 200 % 120], *rr)),
                Reads(50, {CLOCK_BROKEN: 1, AFTER_CLOCK_BROKEN: 80 + 120}, check=beats_end_by(_GOOD_50)),
                pipeline=label == "huge",
            )
        )
    add(
        Case(
            "rr_bad_first.txt",
            _file("rr_bad_first.txt", _lines("nan", *rr)),
            Fails("nothing readable"),
            format="rr_text",
        )
    )
    for label in ("huge", "nan", "zero"):
        values = ["800"] * 60 + [_RR_BAD[label]] + ["800"] * 60
        add(
            Case(
                f"psl_{label}.txt",
                _file(f"psl_{label}.txt", _lines("Phone timestamp;RR-interval [ms]", *psl_rows(values))),
                Reads(120, {CLOCK_BROKEN: 1}, check=psl_beats_on_phone_clock),
                pipeline=label == "huge",
            )
        )
    add(
        Case(
            "ibi_nan_time",
            _seed_folder(
                "ibi_nan_time",
                "empatica_e4",
                {"IBI.csv": ibi(["10.0,0.8", "nan,0.8", "inf,0.8", "1e308,0.8", "-5,0.8", "12.4,0.8"])},
            ),
            Reads(None, {"Empatica IBI time": 4}, check=beats_end_by(_GOOD_50)),
        )
    )
    add(
        Case(
            "ibi_inf_interval",
            _seed_folder(
                "ibi_inf_interval",
                "empatica_e4",
                {"IBI.csv": ibi(["10.0,0.8", "10.8,inf", "11.6,nan", "12.4,0.8"])},
            ),
            Reads(None, {"rr_interval is not a number": 2}),
        )
    )
    add(
        Case(
            "rr_csv_time_1e308.csv",
            _file("rr_csv_time_1e308.csv", _lines("time,rr", "1.0,800", "1e308,800")),
            Fails("finite number", line=3),
        )
    )
    add(
        Case(
            "rr_csv_time_nan.csv",
            _file("rr_csv_time_nan.csv", _lines("time,rr", "1.0,800", "nan,800")),
            Fails("finite number", line=3),
        )
    )
    add(
        Case(
            "rr_csv_nan_value.csv",
            _file("rr_csv_nan_value.csv", _lines("time,rr", "1.0,800", "1.8,nan", "2.6,800")),
            Reads(2, {"rr_interval is not a number": 1}),
        )
    )
    session = {
        "exercises": [
            {
                "startTime": "2024-05-04T10:00:00",
                "timezoneOffset": 120,
                "samples": {"rr": [{"value": v} for v in [800, 810, 1e308, 820, 830]]},
            }
        ]
    }
    add(
        Case(
            "training-session-2024-05-04-1.json",
            _file("training-session-2024-05-04-1.json", repr(session).replace("'", '"').encode()),
            Reads(2, {CLOCK_BROKEN: 1, AFTER_CLOCK_BROKEN: 2}),
        )
    )

    # Defect 14: impossible offsets, daylight-saving gaps, not-a-number, overflow.
    add(
        Case(
            "offset_2500.xml",
            _file(
                "offset_2500.xml",
                apple(
                    apple_hr("61"),
                    apple_hr("62", "2024-05-04 10:00:05 +2500"),
                    apple_hr("63", "2024-05-04 10:00:10 +1415"),
                    apple_hr("64", "2024-05-04 10:00:15 -1401"),
                    apple_hr("65", "2024-05-04 10:00:20 +0175"),
                ),
            ),
            Reads(1, {"UTC offset beyond ±14 hours": 4}),
            pipeline=True,
        )
    )
    add(
        Case(
            "sleep_offset_2500.xml",
            _file(
                "sleep_offset_2500.xml",
                apple(apple_hr("61"), apple_sleep("2024-05-04 01:00:00 +2500", "2024-05-04 02:00:00 +2500")),
            ),
            Reads(1, {"unparseable date": 1}),
        )
    )
    add(
        Case(
            "ecg_offset.zip",
            _zip(
                "ecg_offset.zip",
                {
                    "apple_health_export/export.xml": apple(apple_hr("61")),
                    "apple_health_export/electrocardiograms/ecg_2024-05-04.csv": ecg_csv(
                        "2024-05-04 10:00:00 +2500"
                    ),
                },
            ),
            Fails("recorded date '2024-05-04 10:00:00 +2500' is impossible"),
        )
    )
    add(
        Case(
            "hr_dst_gap.csv",
            _file(
                "hr_dst_gap.csv",
                _lines(
                    "timestamp,bpm",
                    "2024-03-31T01:59:00,60",
                    "2024-03-31T02:00:00,61",
                    "2024-03-31T02:30:00,62",
                    "2024-03-31T03:00:00,63",
                ),
            ),
            Reads(2, {"daylight-saving gap of Europe/Berlin": 2}),
            tz=BERLIN,
            pipeline=True,
        )
    )
    add(
        Case(
            "rr_csv_dst_gap.csv",
            _file(
                "rr_csv_dst_gap.csv",
                _lines(
                    "time,rr", "2024-03-31T01:59:59,800", "2024-03-31T02:15:00,800", "2024-03-31T03:00:01,800"
                ),
            ),
            Reads(2, {"daylight-saving gap of Europe/Berlin": 1}),
            tz=BERLIN,
        )
    )
    add(
        Case(
            "psl_dst_gap.txt",
            _file(
                "psl_dst_gap.txt",
                _lines(
                    "Phone timestamp;RR-interval [ms]",
                    *psl_rows(["800"] * 5, dt.datetime(2024, 3, 31, 1, 59, 58)),
                ),
            ),
            Reads(2, {"daylight-saving gap of Europe/Berlin": 3}),
            tz=BERLIN,
        )
    )
    add(
        Case(
            "hr_abc.csv",
            _file("hr_abc.csv", _lines("timestamp,bpm", *hr_rows(3), "2024-05-04T11:00:00Z,abc")),
            Fails("'abc' is not a number", line=5),
        )
    )
    add(
        Case(
            "hr_nan.csv",
            _file(
                "hr_nan.csv",
                _lines("timestamp,bpm", *hr_rows(3), "2024-05-04T11:00:00Z,nan", "2024-05-04T11:00:01Z,inf"),
            ),
            Reads(3, {"heart_rate is not a number": 2}),
        )
    )
    add(
        Case(
            "apple_abc.xml",
            _file("apple_abc.xml", apple(apple_hr("61"), apple_hr("abc"), apple_hr("NaN"))),
            Reads(1, {"heart_rate is not a number": 2}),
        )
    )
    add(
        Case(
            "hr_unix_overflow.csv",
            _file(
                "hr_unix_overflow.csv", _lines("timestamp,bpm", "1714809600,60", "99999999999999999999999,60")
            ),
            Fails("outside 1970-2200", line=3),
        )
    )
    add(
        Case(
            "hr_offset_2500.csv",
            _file("hr_offset_2500.csv", _lines("timestamp,bpm", "2024-05-04T10:00:00+25:00,60")),
            Fails("neither ISO", line=2),
        )
    )
    add(
        Case(
            "hr_offset_1430.csv",
            _file("hr_offset_1430.csv", _lines("timestamp,bpm", "2024-05-04T10:00:00+14:30,60")),
            Fails("beyond ±14 hours", line=2),
        )
    )

    # Impossible values and dates.
    add(
        Case(
            "hr_bounds.csv",
            _file(
                "hr_bounds.csv",
                _lines("timestamp,bpm", *hr_rows(3), "2024-05-04T11:00:00Z,300", "2024-05-04T11:00:01Z,-5"),
            ),
            Reads(3, {"heart_rate out of physiological bounds": 2}),
        )
    )
    add(
        Case(
            "rr_bounds.txt",
            _file("rr_bounds.txt", _lines("RR", *rr[:10], "50", "5000", *rr[:10])),
            Reads(
                20,
                {"rr_interval out of physiological bounds": 2},
                check=beats_end_by(START + dt.timedelta(seconds=25)),
            ),
        )
    )
    add(
        Case(
            "hr_feb30.csv",
            _file("hr_feb30.csv", _lines("timestamp,bpm", "2024-02-30T10:00:00Z,60")),
            Fails("neither ISO", line=2),
        )
    )
    add(
        Case(
            "hr_year0.csv",
            _file("hr_year0.csv", _lines("timestamp,bpm", "0000-01-01T00:00:00Z,60")),
            Fails("neither ISO", line=2),
        )
    )
    add(
        Case(
            "apple_month13.xml",
            _file(
                "apple_month13.xml",
                apple(
                    apple_hr("61"),
                    apple_hr("62", "2024-13-01 10:00:00 +0200"),
                    apple_hr("63", "2024-02-31 25:61:00 +0200"),
                ),
            ),
            Reads(1, {"unparseable date": 2}),
        )
    )
    add(
        Case(
            "ibi_start_nan",
            _seed_folder("ibi_start_nan", "empatica_e4", {"IBI.csv": ibi(["10,0.8"], start=float("nan"))}),
            Fails("not a number", line=1),
        )
    )
    add(
        Case(
            "hr_rate_zero",
            _seed_folder(
                "hr_rate_zero", "empatica_e4", {"HR.csv": _lines(f"{UNIX_START:.1f}", "0", "60", "61")}
            ),
            Fails("sample rate", line=2),
        )
    )

    # Wrong encodings.
    text = "\n".join(["timestamp,bpm", *hr_rows(5)]) + "\n"
    add(
        Case(
            "hr_utf16le.csv",
            _file("hr_utf16le.csv", text.encode("utf-16")),
            Fails("UTF-16", line=1),
            format="hr_csv",
        )
    )
    add(
        Case(
            "hr_utf16be.csv",
            _file("hr_utf16be.csv", b"\xfe\xff" + text.encode("utf-16-be")),
            Fails("UTF-16", line=1),
            format="hr_csv",
        )
    )
    add(
        Case(
            "hr_utf16_nobom.csv",
            _file("hr_utf16_nobom.csv", text.encode("utf-16-le")),
            Fails("NUL byte", line=1),
            format="hr_csv",
        )
    )
    add(
        Case(
            "hr_utf16_detected.csv",
            _file("hr_utf16_detected.csv", text.encode("utf-16")),
            Fails("format not recognised"),
        )
    )
    add(
        Case(
            "hr_latin1.csv",
            _file(
                "hr_latin1.csv",
                _lines("timestamp,bpm", *hr_rows(2), "2024-05-04T11:00:00Z,60 café", encoding="latin-1"),
            ),
            Fails("not UTF-8", line=4),
        )
    )
    add(Case("hr_bom.csv", _file("hr_bom.csv", b"\xef\xbb\xbf" + text.encode()), Reads(5)))
    add(
        Case(
            "apple_utf16.xml",
            _file(
                "apple_utf16.xml", apple(apple_hr("61")).decode().replace("UTF-8", "UTF-16").encode("utf-16")
            ),
            Fails("not an Apple Health export.xml"),
            format="apple_health",
        )
    )
    add(
        Case(
            "whoop_latin1",
            _seed_folder(
                "whoop_latin1",
                "whoop",
                {
                    "physiological_cycles.csv": (
                        seed("whoop").files[
                            next(n for n in seed("whoop").files if n.endswith("physiological_cycles.csv"))
                        ]
                        + "é\n".encode("latin-1")
                    )
                },
            ),
            Fails("not UTF-8"),
        )
    )

    # XML bombs and entities.
    laughs = (
        '<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n<!ENTITY lol "lol">\n'
        + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">\n' for i in range(1, 10)).replace(
            "&lol0;", "&lol;"
        )
        + "]>\n"
    )
    add(
        Case(
            "billion_laughs.xml",
            _file("billion_laughs.xml", apple(apple_hr("&lol9;"), prolog=laughs)),
            Fails("declares entities"),
            pipeline=True,
        )
    )
    xxe = '<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n<!ENTITY secret SYSTEM "file:///etc/passwd">\n]>\n'
    add(
        Case("xxe.xml", _file("xxe.xml", apple(apple_hr("&secret;"), prolog=xxe)), Fails("declares entities"))
    )
    parameter = (
        '<?xml version="1.0"?>\n<!DOCTYPE HealthData [\n'
        '<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd">\n%remote;\n]>\n'
    )
    add(
        Case(
            "parameter_entity.xml",
            _file("parameter_entity.xml", apple(apple_hr("61"), prolog=parameter)),
            Fails("declares entities"),
        )
    )
    external_dtd = '<?xml version="1.0"?>\n<!DOCTYPE HealthData SYSTEM "http://127.0.0.1:9/x">\n'
    add(
        Case(
            "external_dtd.xml",
            _file("external_dtd.xml", apple(apple_hr("61"), prolog=external_dtd)),
            Reads(1),
        )
    )
    # The byte scanner steps over elements it does not keep without parsing them (a bounded
    # walk, no recursion), so a deep nest of unknown elements never reaches a parser.
    add(
        Case(
            "deep_nesting.xml",
            _file("deep_nesting.xml", apple(apple_hr("61"), "<a>" * 100_000 + "</a>" * 100_000)),
            Reads(1),
        )
    )

    # Zip bombs, slips and links.
    add(
        Case(
            "ratio_bomb.zip",
            _zip(
                "ratio_bomb.zip",
                {"apple_health_export/export.xml": apple(apple_hr("61")) + b" " * (16 << 20)},
            ),
            Fails("zip bomb"),
            pipeline=True,
        )
    )
    add(
        Case(
            "declared_bomb.zip",
            _zip(
                "declared_bomb.zip",
                {"apple_health_export/export.xml": apple(apple_hr("61"))},
                declared={"apple_health_export/export.xml": 0xFFFFFFF0},
            ),
            Fails("zip bomb"),
        )
    )
    add(
        Case(
            "slip.zip",
            _zip("slip.zip", {"../../outside/export.xml": apple(apple_hr("61"))}),
            Fails("zip-slip"),
            pipeline=True,
        )
    )
    add(
        Case(
            "absolute.zip",
            _zip("absolute.zip", {"/etc/export.xml": apple(apple_hr("61"))}),
            Fails("zip-slip"),
        )
    )
    add(
        Case(
            "windows_slip.zip",
            _zip("windows_slip.zip", {"..\\..\\outside\\IBI.csv": ibi(["10,0.8"])}),
            Fails("zip-slip"),
            format="empatica_e4",
        )
    )
    add(
        Case(
            "symlink.zip",
            _zip(
                "symlink.zip",
                {"apple_health_export/export.xml": apple(apple_hr("61"))},
                links={"apple_health_export/electrocardiograms/ecg.csv": "/etc/passwd"},
            ),
            Fails("symbolic link"),
            pipeline=True,
        )
    )
    add(
        Case(
            "symlink_e4.zip",
            _zip(
                "symlink_e4.zip",
                {"HR.csv": _lines(f"{UNIX_START:.1f}", "1", "60")},
                links={"IBI.csv": "../../other/IBI.csv"},
            ),
            Fails("symbolic link"),
        )
    )

    # Truncations of every format.
    add(
        Case(
            "truncated.xml",
            _file("truncated.xml", _cut(_seed_file("apple_health"), 0.6)),
            Fails("malformed XML"),
        )
    )
    add(
        Case(
            "truncated.fit",
            _file("truncated.fit", _cut(_seed_file("garmin_fit"), 0.5)),
            Fails("not a readable FIT file"),
        )
    )
    add(
        Case(
            "truncated_header.fit",
            _file("truncated_header.fit", _seed_file("garmin_fit")[:13]),
            Fails("not a readable FIT file"),
            format="garmin_fit",
        )
    )
    add(
        Case(
            "truncated.db",
            _file("truncated.db", _cut(_seed_file("health_connect"), 0.3)),
            Fails("truncated.db"),
            format="health_connect",
        )
    )
    add(
        Case(
            "truncated.zip",
            _file(
                "truncated.zip",
                _cut(_zip_bytes({"apple_health_export/export.xml": apple(apple_hr("61"))}), 0.7),
            ),
            Fails("format not recognised"),
        )
    )
    add(
        Case(
            "truncated_ibi",
            _seed_folder("truncated_ibi", "empatica_e4", {"IBI.csv": ibi(["10.0,0.8", "10.8,"])}),
            Fails("not a number", line=3),
        )
    )
    add(
        Case(
            "truncated_hr.csv",
            _file("truncated_hr.csv", _lines("timestamp,bpm", *hr_rows(3)) + b"2024-05-04T1"),
            Fails("expected ','-separated", line=5),
        )
    )
    add(
        Case(
            "truncated_psl.txt",
            _file(
                "truncated_psl.txt",
                _lines("Phone timestamp;RR-interval [ms]", *psl_rows(["800"] * 3)) + b"2024-05-04T10:00",
            ),
            Fails("expected ';'-separated", line=5),
        )
    )
    for connector, suffix in (
        ("polar_flow", "ppi_samples_2024-05-04.json"),
        ("garmin_connect", "sleepData.json"),
        ("oura", ".json"),
        ("fitbit", "sleep-2024-03-01.json"),
    ):
        files = seed(connector).files
        (name,) = [n for n in files if n.endswith(suffix)][:1]
        add(
            Case(
                f"truncated_{connector}",
                _seed_folder(f"truncated_{connector}", connector, {name: _cut(files[name], 0.5)}),
                Fails("JSON"),
            )
        )

    # Wrong format, right name.
    add(Case("export.xml", _file("export.xml", PNG), Fails("format not recognised"), pipeline=True))
    add(
        Case(
            "png_as_apple.xml",
            _file("png_as_apple.xml", PNG),
            Fails("no <HealthData>"),
            format="apple_health",
        )
    )
    add(
        Case(
            "activity.fit",
            _file("activity.fit", _lines("timestamp,bpm", *hr_rows(4))),
            Fails("not a readable FIT file"),
            format="garmin_fit",
        )
    )
    add(
        Case("csv_named.fit", _file("csv_named.fit", _lines("timestamp,bpm", *hr_rows(4))), Reads(4))
    )  # content decides: it is read as the CSV it is
    add(Case("jpeg_IBI.csv", _file("jpeg_IBI.csv", JPEG), Fails("format not recognised")))
    add(Case("jpeg_as_ibi.csv", _file("jpeg_as_ibi.csv", JPEG), Fails("Empatica"), format="empatica_e4"))
    add(
        Case(
            "html_export.zip",
            _file("html_export.zip", b"<html><body>Sign in</body></html>"),
            Fails("format not recognised"),
        )
    )
    add(
        Case(
            "zip_as_export.xml",
            _zip("zip_as_export.xml", {"notes.txt": b"hello"}),
            Fails("format not recognised"),
        )
    )
    add(Case("xml_as_hr.csv", _file("xml_as_hr.csv", apple(apple_hr("61"))), Reads(1)))
    add(
        Case(
            "text_as.db",
            _file("text_as.db", b"SQLite format 3\x00" + b"x" * 200),
            Fails("text_as.db"),
            format="health_connect",
        )
    )
    add(
        Case(
            "fit_as_rr.txt",
            _file("fit_as_rr.txt", _seed_file("garmin_fit")),
            Fails("fit_as_rr.txt"),
            format="rr_text",
        )
    )
    return cases


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


CASES: list[Case] = _cases()


def main(argv: list[str]) -> int:
    target = Path(argv[1] if len(argv) > 1 else "hostile-corpus")
    for case in CASES:
        case.write(target / case.name.replace("/", "_"))
    print(f"{len(CASES)} cases written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
