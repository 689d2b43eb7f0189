"""A synthetic Apple Health export, written in the real layout.

``export.zip`` holds ``apple_health_export/export.xml`` (an internal DTD, then
``<HealthData>`` with one element per record) and, optionally,
``apple_health_export/electrocardiograms/ecg_*.csv``. The content mimics a
person with an Apple Watch, an iPhone, a Polar H10 strap writing through the
Polar Flow app, and an app without a device:

* heart rate every ``hr_every_s`` seconds with motion-context metadata, a few
  impossible values among them;
* HRV SDNN records with beat lists in every locale variant of the beat time,
  one a night crossing midnight, and beats one hour off ``startDate`` on the
  morning after a daylight-saving change (as real watches have written them);
* resting heart rate, respiratory rate, SpO2 (as a fraction), sleep stages,
  mindful sessions;
* what Vagus skips: active energy, steps, distance, blood-pressure
  correlations, workouts with routes, activity summaries.

Everything is written day by day, so memory does not grow with ``days``.
:class:`AppleTruth` records what was written, counted the way the connector
counts it.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal
from zoneinfo import ZoneInfo

import numpy as np

Layout = Literal["zip", "folder", "xml"]

WATCH = "Alex’s Apple Watch"
PHONE = "Alex’s iPhone"
STRAP_APP = "Polar Flow"
PLAIN_APP = "HeartWatch"
_WATCH_DEVICE = (
    "name:Apple Watch, manufacturer:Apple Inc., model:Watch, hardware:Watch6,2, software:{software}"
)
_PHONE_DEVICE = "name:iPhone, manufacturer:Apple Inc., model:iPhone, hardware:iPhone13,2, software:17.4"
_STRAP_DEVICE = (
    "name:Polar H10 8A2B3C4D, manufacturer:Polar Electro Oy, model:H10, hardware:00760690.03, software:5.0.0"
)

#: Beat-time formats seen in real exports, by phone locale.
BEAT_TIME_VARIANTS = ("12h-nnbsp", "12h-space", "24h-dot", "24h-comma", "12h-comma")

#: HR values written out of physiological bounds: one in this many.
IMPOSSIBLE_HR_EVERY = 997

# A short internal DTD in the shape of the real one (element and attribute
# declarations only; real exports declare no entities).
_DTD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ATTLIST Me
  HKCharacteristicTypeIdentifierDateOfBirth CDATA #REQUIRED
  HKCharacteristicTypeIdentifierBiologicalSex CDATA #REQUIRED
>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!ELEMENT MetadataEntry EMPTY>
<!ATTLIST MetadataEntry
  key   CDATA #REQUIRED
  value CDATA #REQUIRED
>
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm  CDATA #REQUIRED
  time CDATA #REQUIRED
>
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ELEMENT Workout ((MetadataEntry|WorkoutRoute)*)>
<!ELEMENT WorkoutRoute ((MetadataEntry|Location)*)>
<!ELEMENT Location EMPTY>
<!ELEMENT ActivitySummary EMPTY>
]>
"""


@dataclass
class AppleTruth:
    """What a generated export holds, counted as the connector counts it."""

    samples: Counter[str] = field(default_factory=Counter)  # metric -> stored values
    rejected: Counter[str] = field(default_factory=Counter)  # metric -> out of bounds
    episodes: Counter[str] = field(default_factory=Counter)  # episode kind -> count
    skipped: Counter[str] = field(default_factory=Counter)  # record type / element -> count
    motion_contexts: Counter[str] = field(default_factory=Counter)  # HR per context
    beat_variants: Counter[str] = field(default_factory=Counter)
    dst_corrections: int = 0
    midnight_lists: int = 0
    ecg_files: int = 0
    ecg_rr: int = 0
    ecg_beats_ms: list[list[float]] = field(default_factory=list)  # truth per ECG
    xml_bytes: int = 0


def write_export(
    dest: Path,
    *,
    days: int = 3,
    seed: int = 0,
    start: dt.date = dt.date(2024, 3, 30),
    tz: str = "Europe/Berlin",
    layout: Layout = "zip",
    ecg_count: int = 0,
    hr_every_s: int = 120,
    energy_every_s: int = 60,
    compresslevel: int = 6,
) -> AppleTruth:
    """Write an export of ``days`` days from ``start`` to ``dest``; return its truth.

    ``layout`` "zip" writes ``dest`` as ``export.zip``; "folder" writes
    ``dest/apple_health_export/``; "xml" writes only the XML file ``dest``.
    """
    truth = AppleTruth()
    writer = _Writer(random.Random(seed), ZoneInfo(tz), truth, hr_every_s, energy_every_s)
    if layout == "zip":
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
            with archive.open("apple_health_export/export.xml", "w", force_zip64=True) as handle:
                writer.write(handle, start, days)
            for index in range(ecg_count):
                name, text = _ecg_file(writer.rng, start, index, ZoneInfo(tz), truth)
                archive.writestr(f"apple_health_export/electrocardiograms/{name}", text)
        return truth
    xml_path = dest if layout == "xml" else dest / "apple_health_export" / "export.xml"
    xml_path.parent.mkdir(parents=True, exist_ok=True)
    with xml_path.open("wb") as handle:
        writer.write(handle, start, days)
    if layout == "folder":
        ecg_dir = xml_path.parent / "electrocardiograms"
        for index in range(ecg_count):
            ecg_dir.mkdir(exist_ok=True)
            name, text = _ecg_file(writer.rng, start, index, ZoneInfo(tz), truth)
            (ecg_dir / name).write_text(text, encoding="utf-8")
    return truth


class _Writer:
    """Formats one day at a time; keeps only the random state between days."""

    def __init__(
        self, rng: random.Random, zone: ZoneInfo, truth: AppleTruth, hr_every_s: int, energy_every_s: int
    ) -> None:
        self.rng = rng
        self.zone = zone
        self.truth = truth
        self.hr_every_s = hr_every_s
        self.energy_every_s = energy_every_s
        self._offsets: dict[int, int] = {}
        self._hr_written = 0
        self._hrv_written = 0

    # -- formatting -------------------------------------------------------

    def offset(self, epoch: int) -> int:
        """UTC offset in seconds at ``epoch`` (cached per hour: zones change on the hour)."""
        hour = epoch // 3600
        found = self._offsets.get(hour)
        if found is None:
            moment = dt.datetime.fromtimestamp(hour * 3600, self.zone)
            found = int(moment.utcoffset().total_seconds())  # type: ignore[union-attr]
            self._offsets[hour] = found
        return found

    def stamp(self, epoch: int) -> str:
        """``2024-05-04 07:00:00 +0200`` for ``epoch`` in the zone."""
        offset = self.offset(epoch)
        t = time.gmtime(epoch + offset)
        sign = "+" if offset >= 0 else "-"
        hours, minutes = divmod(abs(offset) // 60, 60)
        return (
            f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {sign}{hours:02d}{minutes:02d}"
        )

    def device(self, template: str, software: str = "") -> str:
        pointer = self.rng.getrandbits(36) | (1 << 37)
        text = f"<<HKDevice: 0x{pointer:x}>, " + template.format(software=software) + ">"
        return text.replace("<", "&lt;").replace(">", "&gt;")

    def record(
        self,
        kind: str,
        source: str,
        device: str | None,
        start: int,
        end: int,
        value: str,
        unit: str | None = None,
        children: str = "",
    ) -> str:
        dev = f' device="{device}"' if device else ""
        unit_attr = f' unit="{unit}"' if unit else ""
        head = (
            f'<Record type="{kind}" sourceName="{source}" sourceVersion="10.1"{dev}'
            f'{unit_attr} creationDate="{self.stamp(end + 30)}" '
            f'startDate="{self.stamp(start)}" endDate="{self.stamp(end)}" value="{value}"'
        )
        if not children:
            return f" {head}/>\n"
        return f" {head}>\n{children} </Record>\n"

    # -- the document -----------------------------------------------------

    def write(self, handle: BinaryIO, start: dt.date, days: int) -> None:
        first = int(dt.datetime.combine(start, dt.time(), self.zone).timestamp())
        head = (
            _DTD + '<HealthData locale="en_US">\n'
            f' <ExportDate value="{self.stamp(first + days * 86400)}"/>\n'
            ' <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-02-02" '
            'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale"/>\n'
        )
        self._emit(handle, head)
        for index in range(days):
            day = start + dt.timedelta(days=index)
            begin = int(dt.datetime.combine(day, dt.time(), self.zone).timestamp())
            end = int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), self.zone).timestamp())
            software = "10.1" if index < days // 2 else "10.2"  # an update mid-export
            parts: list[str] = []
            self._heart_rate(parts, begin, end, software)
            self._strap(parts, begin)
            self._hrv(parts, begin, end, software)
            self._daily(parts, begin, software)
            self._night(parts, begin, software)
            self._skipped(parts, begin, end, index, software)
            self._emit(handle, "".join(parts))
        self._emit(handle, "</HealthData>\n")

    def _emit(self, handle: BinaryIO, text: str) -> None:
        data = text.encode("utf-8")
        handle.write(data)
        self.truth.xml_bytes += len(data)

    def _heart_rate(self, parts: list[str], begin: int, end: int, software: str) -> None:
        rng, truth = self.rng, self.truth
        contexts = (None, "0", "1", "1", "2")
        names = {None: "none", "0": "not_set", "1": "sedentary", "2": "active"}
        for t in range(begin + rng.randrange(60), end, self.hr_every_s):
            self._hr_written += 1
            bpm = rng.randint(48, 130)
            if self._hr_written % IMPOSSIBLE_HR_EVERY == 0:
                bpm = 300
            context = contexts[self._hr_written % len(contexts)]
            children = ""
            if context is not None:
                children = f'  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="{context}"/>\n'
            parts.append(
                self.record(
                    "HKQuantityTypeIdentifierHeartRate",
                    WATCH,
                    self.device(_WATCH_DEVICE, software),
                    t,
                    t,
                    str(bpm),
                    "count/min",
                    children,
                )
            )
            if bpm > 250:
                truth.rejected["heart_rate"] += 1
            else:
                truth.samples["heart_rate"] += 1
                truth.motion_contexts[names[context]] += 1

    def _strap(self, parts: list[str], begin: int) -> None:
        """A 20-minute chest-strap session written by a third-party app."""
        for t in range(begin + 18 * 3600, begin + 18 * 3600 + 1200, 5):
            parts.append(
                self.record(
                    "HKQuantityTypeIdentifierHeartRate",
                    STRAP_APP,
                    self.device(_STRAP_DEVICE),
                    t,
                    t,
                    f"{self.rng.uniform(90, 150):.0f}",
                    "count/min",
                )
            )
            self.truth.samples["heart_rate"] += 1
            self.truth.motion_contexts["none"] += 1

    def _hrv(self, parts: list[str], begin: int, end: int, software: str) -> None:
        starts = [begin + hour * 3600 + self.rng.randrange(1800) for hour in (1, 5, 9, 13, 17, 21)]
        starts.append(end - 40)  # its beats run past midnight
        for index, t0 in enumerate(starts):
            self._hrv_written += 1
            variant = BEAT_TIME_VARIANTS[self._hrv_written % len(BEAT_TIME_VARIANTS)]
            # Beats at centisecond resolution, some with a dropout gap.
            rr_cs = [self.rng.randint(70, 110) for _ in range(self.rng.randint(40, 80))]
            if self._hrv_written % 7 == 0:
                rr_cs[len(rr_cs) // 2] += 300  # a lost beat run: interval over 2.5 s
                self.truth.rejected["rr_interval"] += 1
            first_cs = self.rng.randint(30, 200)
            beats_cs = np.cumsum([first_cs] + rr_cs)
            t1 = t0 + math.ceil(beats_cs[-1] / 100)
            # Beats are written in the offset of midnight: on the morning after a
            # daylight-saving change that is an hour off startDate's offset.
            beat_offset = self.offset(begin) if index == 1 else self.offset(t0)
            if beat_offset != self.offset(t0):
                self.truth.dst_corrections += 1
            if t1 >= end:
                self.truth.midnight_lists += 1
            lines = ["  <HeartRateVariabilityMetadataList>\n"]
            for k, at_cs in enumerate(beats_cs):
                local_ms = ((t0 + beat_offset) % 86400) * 1000 + int(at_cs) * 10
                rr = rr_cs[k - 1] * 10 if k else 1000
                lines.append(
                    f'   <InstantaneousBeatsPerMinute bpm="{round(60000 / rr)}" '
                    f'time="{_beat_time(local_ms % 86_400_000, variant)}"/>\n'
                )
            lines.append("  </HeartRateVariabilityMetadataList>\n")
            sdnn = float(np.std(np.asarray(rr_cs) * 10.0, ddof=1))
            parts.append(
                self.record(
                    "HKQuantityTypeIdentifierHeartRateVariabilitySDNN",
                    WATCH,
                    self.device(_WATCH_DEVICE, software),
                    t0,
                    t1,
                    f"{sdnn:.4f}",
                    "ms",
                    "".join(lines),
                )
            )
            self.truth.samples["hrv_sdnn"] += 1
            self.truth.samples["rr_interval"] += len(rr_cs) - (self._hrv_written % 7 == 0)
            self.truth.beat_variants[variant] += 1

    def _daily(self, parts: list[str], begin: int, software: str) -> None:
        noon = begin + 12 * 3600
        parts.append(
            self.record(
                "HKQuantityTypeIdentifierRestingHeartRate",
                WATCH,
                self.device(_WATCH_DEVICE, software),
                noon,
                noon,
                str(self.rng.randint(50, 65)),
                "count/min",
            )
        )
        parts.append(
            self.record(
                "HKQuantityTypeIdentifierRestingHeartRate",
                PLAIN_APP,
                None,
                noon,
                noon,
                str(self.rng.randint(50, 65)),
                "count/min",
            )
        )
        self.truth.samples["resting_heart_rate"] += 2
        if (begin // 86400) % 3 == 0:
            parts.append(
                self.record(
                    "HKCategoryTypeIdentifierMindfulSession",
                    WATCH,
                    self.device(_WATCH_DEVICE, software),
                    noon + 600,
                    noon + 1200,
                    "HKCategoryValueNotApplicable",
                )
            )
            self.truth.episodes["mindful"] += 1

    def _night(self, parts: list[str], begin: int, software: str) -> None:
        """The night from 22:45 this day: stages, breathing, SpO2."""
        rng, truth = self.rng, self.truth
        bed, rise = begin + 22 * 3600 + 2700, begin + 30 * 3600 + 2700
        parts.append(
            self.record(
                "HKCategoryTypeIdentifierSleepAnalysis",
                PHONE,
                self.device(_PHONE_DEVICE),
                bed,
                rise,
                "HKCategoryValueSleepAnalysisInBed",
            )
        )
        truth.episodes["in_bed"] += 1
        parts.append(
            self.record(
                "HKCategoryTypeIdentifierSleepAnalysis",
                PLAIN_APP,
                None,
                bed + 600,
                rise - 300,
                "HKCategoryValueSleepAnalysisAsleep",
            )
        )
        truth.episodes["asleep"] += 1
        stages = (
            ("AsleepCore", "asleep_core", 40),
            ("AsleepDeep", "asleep_deep", 30),
            ("AsleepCore", "asleep_core", 20),
            ("AsleepREM", "asleep_rem", 25),
            ("Awake", "awake", 3),
            ("AsleepUnspecified", "asleep", 10),
        )
        t, k = bed + 300, 0
        while t < rise - 900:
            value, kind, minutes = stages[k % len(stages)]
            t_end = t + minutes * 60 + rng.randrange(120)
            parts.append(
                self.record(
                    "HKCategoryTypeIdentifierSleepAnalysis",
                    WATCH,
                    self.device(_WATCH_DEVICE, software),
                    t,
                    t_end,
                    f"HKCategoryValueSleepAnalysis{value}",
                )
            )
            truth.episodes[kind] += 1
            t, k = t_end, k + 1
        for t in range(bed + 900, rise, 1800):
            parts.append(
                self.record(
                    "HKQuantityTypeIdentifierRespiratoryRate",
                    WATCH,
                    self.device(_WATCH_DEVICE, software),
                    t,
                    t + 60,
                    f"{rng.uniform(11, 18):.1f}",
                    "count/min",
                )
            )
            truth.samples["respiratory_rate"] += 1
        for t in range(bed + 3600, rise, 7200):
            parts.append(
                self.record(
                    "HKQuantityTypeIdentifierOxygenSaturation",
                    WATCH,
                    self.device(_WATCH_DEVICE, software),
                    t,
                    t,
                    f"{rng.randint(92, 100) / 100:.2f}",
                    "%",
                )
            )
            truth.samples["spo2"] += 1

    def _skipped(self, parts: list[str], begin: int, end: int, index: int, software: str) -> None:
        """What the connector must skip (and count) quickly."""
        rng, skipped = self.rng, self.truth.skipped
        watch = self.device(_WATCH_DEVICE, software)
        for t in range(begin, end, self.energy_every_s):
            parts.append(
                self.record(
                    "HKQuantityTypeIdentifierActiveEnergyBurned",
                    WATCH,
                    watch,
                    t,
                    t + self.energy_every_s,
                    f"{rng.uniform(0.1, 3):.3f}",
                    "kcal",
                )
            )
            skipped["HKQuantityTypeIdentifierActiveEnergyBurned"] += 1
        for t in range(begin + 7 * 3600, begin + 22 * 3600, 3600):
            for kind, unit in (
                ("HKQuantityTypeIdentifierStepCount", "count"),
                ("HKQuantityTypeIdentifierDistanceWalkingRunning", "km"),
            ):
                parts.append(
                    self.record(
                        kind, PHONE, self.device(_PHONE_DEVICE), t, t + 3600, str(rng.randint(0, 900)), unit
                    )
                )
                skipped[kind] += 1
        parts.append(
            f' <ActivitySummary dateComponents="{self.stamp(begin)[:10]}" '
            f'activeEnergyBurned="{rng.uniform(200, 800):.3f}" '
            'activeEnergyBurnedUnit="kcal"/>\n'
        )
        skipped["ActivitySummary"] += 1
        if index % 5 == 2:
            self._blood_pressure(parts, begin + 8 * 3600)
        if index % 7 == 3:
            self._workout(parts, begin + 17 * 3600)

    def _blood_pressure(self, parts: list[str], t: int) -> None:
        """A correlation; as in real exports its records also appear at top level."""
        inner = [
            self.record("HKQuantityTypeIdentifierBloodPressureSystolic", PHONE, None, t, t, "121", "mmHg"),
            self.record("HKQuantityTypeIdentifierBloodPressureDiastolic", PHONE, None, t, t, "79", "mmHg"),
        ]
        parts.extend(inner)
        self.truth.skipped["HKQuantityTypeIdentifierBloodPressureSystolic"] += 1
        self.truth.skipped["HKQuantityTypeIdentifierBloodPressureDiastolic"] += 1
        parts.append(
            f' <Correlation type="HKCorrelationTypeIdentifierBloodPressure" '
            f'sourceName="{PHONE}" sourceVersion="17.4" '
            f'creationDate="{self.stamp(t)}" startDate="{self.stamp(t)}" '
            f'endDate="{self.stamp(t)}">\n' + "".join(inner) + " </Correlation>\n"
        )
        self.truth.skipped["Correlation"] += 1

    def _workout(self, parts: list[str], t: int) -> None:
        points = "".join(
            f'   <Location date="{self.stamp(t + 5 * i)}" latitude="{52.52 + i * 1e-4:.6f}" '
            f'longitude="{13.40 + i * 1e-4:.6f}" altitude="35.1" speed="2.9"/>\n'
            for i in range(20)
        )
        parts.append(
            f' <Workout workoutActivityType="HKWorkoutActivityTypeRunning" '
            f'duration="30" durationUnit="min" sourceName="{WATCH}" '
            f'sourceVersion="10.1" creationDate="{self.stamp(t + 1800)}" '
            f'startDate="{self.stamp(t)}" endDate="{self.stamp(t + 1800)}">\n'
            f'  <MetadataEntry key="HKTimeZone" value="Europe/Berlin"/>\n'
            f'  <WorkoutRoute sourceName="{PHONE}" sourceVersion="17.4" '
            f'startDate="{self.stamp(t)}" endDate="{self.stamp(t + 1800)}">\n'
            f"{points}  </WorkoutRoute>\n </Workout>\n"
        )
        self.truth.skipped["Workout"] += 1


def _beat_time(ms_of_day: int, variant: str) -> str:
    """A beat's wall-clock time of day as a phone in that locale writes it."""
    seconds, millis = divmod(ms_of_day, 1000)
    hour, rest = divmod(seconds, 3600)
    minute, second = divmod(rest, 60)
    centis = millis // 10
    half = "AM" if hour < 12 else "PM"
    hour12 = hour % 12 or 12
    if variant == "12h-nnbsp":
        return f"{hour12}:{minute:02d}:{second:02d}.{centis:02d}\u202f{half}"
    if variant == "12h-space":
        return f"{hour12}:{minute:02d}:{second:02d}.{centis:02d} {half}"
    if variant == "24h-dot":
        return f"{hour:02d}:{minute:02d}:{second:02d}.{centis:02d}"
    if variant == "24h-comma":
        return f"{hour:02d}:{minute:02d}:{second:02d},{centis:02d}"
    return f"{hour12}:{minute:02d}:{second:02d},{centis:02d} {half}"


# -- electrocardiograms -------------------------------------------------------

ECG_RATE_HZ = 512
ECG_SECONDS = 30


def ecg_signal(
    beats_s: np.ndarray, rate: int = ECG_RATE_HZ, seconds: int = ECG_SECONDS, seed: int = 0
) -> np.ndarray:
    """A lead-I-like trace in µV with a P-QRS-T complex at each beat time."""
    t = np.arange(rate * seconds) / rate
    trace = np.zeros_like(t)
    # (delay from the R peak in s, width in s, amplitude in µV)
    waves = (
        (-0.16, 0.025, 120.0),
        (-0.03, 0.010, -150.0),
        (0.0, 0.012, 1100.0),
        (0.03, 0.010, -250.0),
        (0.25, 0.045, 300.0),
    )
    for beat in beats_s:
        for delay, width, amplitude in waves:
            trace += amplitude * np.exp(-0.5 * ((t - beat - delay) / width) ** 2)
    noise = np.random.default_rng(seed).normal(0.0, 8.0, t.size)
    return trace + noise


def _ecg_file(
    rng: random.Random, start: dt.date, index: int, zone: ZoneInfo, truth: AppleTruth
) -> tuple[str, str]:
    """One ``electrocardiograms/ecg_*.csv``; odd files use a comma-decimal locale."""
    recorded = dt.datetime.combine(start + dt.timedelta(days=index), dt.time(10, 15), zone)
    rr_s = [rng.uniform(0.75, 1.05) for _ in range(40)]
    beats = 0.6 + np.concatenate(([0.0], np.cumsum(rr_s)))
    beats = beats[beats < ECG_SECONDS - 0.6]
    values = ecg_signal(beats, seed=index)
    comma = index % 2 == 1
    stamp = recorded.strftime("%Y-%m-%d %H:%M:%S %z")
    header = [
        "Name,Alex Example",
        'Date of Birth,"2 Feb 1990"',
        f"Recorded Date,{stamp}",
        "Classification,Sinus Rhythm",
        "Symptoms,",
        "Software Version,2",
        'Device,"Watch6,2"',
        f"Sample Rate,{ECG_RATE_HZ} {'Hertz' if comma else 'hertz'}",
        "",
        "Lead,Lead I",
        "Unit,µV",
        "",
    ]
    if comma:
        body = [f'"{v:.3f}"'.replace(".", ",") for v in values]
    else:
        body = [f"{v:.3f}" for v in values]
    truth.ecg_files += 1
    truth.ecg_rr += len(beats) - 1
    truth.samples["rr_interval"] += len(beats) - 1
    truth.ecg_beats_ms.append(list(np.round(beats * 1000, 3)))
    name = f"ecg_{recorded:%Y-%m-%d}{'_' + str(index) if index else ''}.csv"
    return name, "\n".join(header + body) + "\n"
