"""What changed around one massage session, against what would have happened anyway.

Windows (DESIGN.md section 6, defaults in :class:`WindowConfig`):

* ``pre``: the best-quality 5-minute window in the 30 minutes before the start;
* ``during``: the session itself, descriptive only (touch, talk and movement confound it);
* ``post``: the best-quality 5-minute window from 5 to 35 minutes after the end;
* ``night``: the main sleep episode after the session (local 00:00-06:00 without sleep data);
* ``next_days``: the first valid window after waking the next morning (``morning``), and the
  daily measures of the 3 days after beside the 7-day baseline.

Pre, post and control windows come from one device (``device_changed`` otherwise). Control
days are the days without a session within ``control_days`` days and, on the session's
weekday, within ``weekday_days`` days, measured at the same local clock times; same-weekday
days are used when there are enough (:func:`signal_processing.response.match_controls`).
Each metric's effect is the difference in differences computed by
:mod:`signal_processing.response`; the night and the morning are compared with the nights and
mornings after the control days. Quality decides which window is used, never the HRV value.
Everything is computed on read from the stored samples, so data that arrives late changes
the response the next time it is read; the algorithm version is in the result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np

from service.analysis import data as person_data
from service.analysis import recovery, windows
from service.analysis import repository as responses
from service.care.repository import sessions as session_repo
from service.core.db.types import Conn
from service.observations import repository as observations
from signal_processing import response as sp_response
from signal_processing.baseline import measure_status
from signal_processing.hrv import ALGORITHM_VERSION
from signal_processing.metrics import NIGHT_METRICS, WINDOW_METRICS
from signal_processing.windows import window_quality

RESPONSE_VERSION = f"response-4+{ALGORITHM_VERSION}"  # 4: weekday-matched controls, one device
WINDOW = dt.timedelta(minutes=5)
STEP = dt.timedelta(minutes=1)
#: Source kinds whose beats come from an ECG-grade sensor vs a PPG beat list.
_BEAT_KIND = {"chest_strap": "rr", "ecg": "ecg"}


@dataclass(frozen=True)
class WindowConfig:
    """Where the windows around a session lie (DESIGN.md section 6 defaults)."""

    pre_search: dt.timedelta = dt.timedelta(minutes=30)
    post_offset: dt.timedelta = dt.timedelta(minutes=5)
    post_search: dt.timedelta = dt.timedelta(minutes=30)
    control_days: int = 14
    min_controls: int = 3
    next_days: int = 3
    #: How far same-weekday control days are looked for (weeks without a session count).
    weekday_days: int = 56

    @classmethod
    def from_settings(cls, settings: Any) -> WindowConfig:
        return cls(
            pre_search=dt.timedelta(minutes=settings.pre_window_search_min),
            post_offset=dt.timedelta(minutes=settings.post_window_offset_min),
            post_search=dt.timedelta(minutes=settings.post_window_search_min),
            control_days=settings.control_days,
            min_controls=settings.min_control_days,
            next_days=settings.next_days,
        )

    @property
    def version(self) -> str:
        """The algorithm version of responses computed with these windows.

        Non-default windows are part of the version, so stored responses
        computed with other windows are recomputed rather than served.
        """
        if self == DEFAULT_WINDOWS:
            return RESPONSE_VERSION
        key = repr(
            (
                self.pre_search,
                self.post_offset,
                self.post_search,
                self.control_days,
                self.min_controls,
                self.next_days,
                self.weekday_days,
            )
        )
        return f"{RESPONSE_VERSION}/windows-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


DEFAULT_WINDOWS = WindowConfig()


@dataclass(frozen=True)
class Spans:
    """Search ranges of one day's pre and post windows."""

    pre: tuple[dt.datetime, dt.datetime]
    post: tuple[dt.datetime, dt.datetime]


def spans_for(start: dt.datetime, end: dt.datetime, cfg: WindowConfig) -> Spans:
    return Spans(
        pre=(start - cfg.pre_search, start),
        post=(end + cfg.post_offset, end + cfg.post_offset + cfg.post_search),
    )


def shift_to_day(moment: dt.datetime, day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The same local clock time on another day."""
    local = moment.astimezone(tz)
    return dt.datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=tz)


def _candidates(pdata, search: tuple[dt.datetime, dt.datetime], only: int | None = None) -> list:
    """Every 5-minute window in the search range (1-minute steps) with its quality only,
    from the best source with data (or from source ``only``)."""
    out = []
    cursor = search[0]
    while cursor + WINDOW <= search[1]:
        a, b = cursor, cursor + WINDOW
        quality = None
        kind = "none"
        for source_id, _ in pdata.by_source(pdata.rr):
            if only is not None and source_id != only:
                continue
            clean = pdata.cleaned(source_id)
            q = window_quality(clean, a.timestamp(), b.timestamp())
            if q.n_input_beats >= 3:
                quality = q
                kind = _BEAT_KIND.get(pdata.sources[source_id]["kind"], "ppg_beats")
                break
        if quality is None:
            # No beats: say what there is instead, or leave the window out (no data).
            present = [
                kind
                for kind, series in (
                    ("heart_rate", pdata.heart_rate),
                    ("device_hrv", pdata.device_rmssd),
                    ("device_hrv", pdata.device_sdnn),
                )
                if _any_between(series, a, b, only)
            ]
            if present:
                out.append(sp_response.CandidateWindow(a, b, 0.0, 1.0, present[0]))
        else:
            out.append(
                sp_response.CandidateWindow(
                    a,
                    b,
                    quality.coverage,
                    quality.artifact_share if quality.artifact_share is not None else 1.0,
                    kind,
                )
            )
        cursor += STEP
    return out


def _any_between(series, a: dt.datetime, b: dt.datetime, only: int | None = None) -> bool:
    lo, hi = a.timestamp() * 1e6, b.timestamp() * 1e6
    inside = (series.ts_us >= lo) & (series.ts_us < hi)
    if only is not None:
        inside &= series.source_id == only
    return bool(np.any(inside))


def _sources_between(pdata, a: dt.datetime, b: dt.datetime) -> list[int]:
    """Sources with any sample in ``[a, b)``, preferred first."""
    found = {
        sid
        for series in (pdata.rr, pdata.heart_rate, pdata.device_rmssd, pdata.device_sdnn)
        for sid, own in pdata.by_source(series)
        if _any_between(own, a, b)
    }
    return sorted(found, key=lambda sid: (person_data.source_rank(pdata.sources[sid]), sid))


def _values(window: dict[str, Any]) -> dict[str, float | None]:
    hrv = window.get("hrv") or {}
    idx = window.get("indices") or {}
    hr = window.get("heart_rate") or {}
    # Breathing slower than the HF band moves vagal power into LF: HF is not evidence then.
    unreliable = set(window.get("unreliable_metrics") or ())
    return {
        "ln_rmssd": hrv.get("ln_rmssd"),
        "rmssd": hrv.get("rmssd"),
        "hf": None if "hf" in unreliable else hrv.get("hf"),
        "mean_hr": hrv.get("mean_hr") if hrv else hr.get("mean_hr"),
        "stress_index": idx.get("stress_index"),
        "sns_index": idx.get("sns_index"),
        "pns_index": idx.get("pns_index"),
    }


def measure_window(
    pdata,
    search: tuple[dt.datetime, dt.datetime],
    prefer: Literal["latest", "earliest"],
    source_id: int | None = None,
) -> tuple[sp_response.WindowValues, dict[str, Any] | None]:
    """The chosen window's values (or why there is none), and the window itself; from
    ``source_id`` only when given."""
    candidates = _candidates(pdata, search, source_id)
    selection = sp_response.select_best_window(
        candidates, search_start=search[0], search_end=search[1], prefer=prefer
    )
    if selection.window is None:
        if selection.reason == "heart_rate_only":
            # Heart rate still gives mean HR; HRV metrics are missing with the reason.
            edge = (search[1] - WINDOW, search[1]) if prefer == "latest" else (search[0], search[0] + WINDOW)
            window = windows.analyze(pdata, *edge, source_id=source_id)
            if window["heart_rate"]:
                values = {"mean_hr": window["heart_rate"]["mean_hr"]}
                missing = {m: "heart_rate_only" for m in WINDOW_METRICS if m != "mean_hr"}
                return sp_response.WindowValues(values, None, missing, "heart_rate"), window
        return sp_response.WindowValues({}, selection.reason, {}, None), None
    chosen = selection.window
    window = windows.analyze(pdata, chosen.start, chosen.end, source_id=source_id)
    missing = {
        m: ", ".join(window["reasons"]) or "not computable" for m, v in _values(window).items() if v is None
    }
    return (sp_response.WindowValues(_values(window), None, missing, chosen.data_kind), window)


def _day_windows(
    pdata, day: dt.date, spans: Spans, source_id: int | None
) -> tuple[sp_response.DayWindows, dict[str, Any]]:
    """A control day's pre and post windows, from the session's device."""
    pre, pre_window = measure_window(pdata, spans.pre, "latest", source_id)
    post, post_window = measure_window(pdata, spans.post, "earliest", source_id)
    return sp_response.DayWindows(day, pre, post), {"pre": pre_window, "post": post_window}


def _usable(values: sp_response.WindowValues) -> bool:
    return values.insufficient_reason is None


def _session_windows(
    pdata, day: dt.date, spans: Spans
) -> tuple[sp_response.DayWindows, dict[str, Any], int | None]:
    """The session's pre and post windows from one device (see
    :func:`signal_processing.response.same_device_day`), the windows themselves, and the
    source id every control window must then come from."""
    tried: dict[int, tuple] = {}
    for source_id in _sources_between(pdata, spans.pre[0], spans.post[1]):
        tried[source_id] = (
            *measure_window(pdata, spans.pre, "latest", source_id),
            *measure_window(pdata, spans.post, "earliest", source_id),
        )
    if not tried:
        pre, pre_window = measure_window(pdata, spans.pre, "latest")
        post, post_window = measure_window(pdata, spans.post, "earliest")
        return (
            sp_response.DayWindows(day, pre, post),
            {"pre": pre_window, "post": post_window},
            None,
        )
    choice = sp_response.same_device_day(day, [(sid, t[0], t[2]) for sid, t in tried.items()])
    return (
        choice.windows,
        {
            "pre": tried[choice.pre_source][1] if choice.pre_source is not None else None,
            "post": tried[choice.post_source][3] if choice.post_source is not None else None,
        },
        choice.source,
    )


def _night_block(
    blocks: dict[dt.date, tuple], tz: ZoneInfo, night_of: dt.date
) -> tuple[tuple[dt.datetime, dt.datetime], bool]:
    """The main sleep after ``night_of`` (ending the next day), else local 00:00-06:00."""
    next_day = night_of + dt.timedelta(days=1)
    if next_day in blocks:
        return blocks[next_day], True
    return (
        dt.datetime.combine(next_day, dt.time(0), tzinfo=tz),
        dt.datetime.combine(next_day, dt.time(6), tzinfo=tz),
    ), False


def _night(
    pdata,
    sleep_rows: list[dict[str, Any]],
    blocks: dict[dt.date, tuple],
    tz: ZoneInfo,
    night_of: dt.date,
) -> dict[str, Any]:
    """Main sleep after ``night_of``: lnRMSSD, resting HR, duration, efficiency."""
    block, has_sleep = _night_block(blocks, tz, night_of)
    ln, rhr, _ = recovery.measure_block(pdata, block[0], block[1])
    asleep = sum(
        (
            (min(r["ends_at"], block[1]) - max(r["starts_at"], block[0])).total_seconds()
            for r in sleep_rows
            if r["stage"] in recovery.ASLEEP and r["ends_at"] > block[0] and r["starts_at"] < block[1]
        ),
        0.0,
    )
    in_bed = (block[1] - block[0]).total_seconds()
    return {
        "start": block[0],
        "end": block[1],
        "from": "main sleep episode" if has_sleep else "local 00:00-06:00 (no sleep data)",
        "values": {
            "night_ln_rmssd": ln,
            "night_hr": rhr,
            "sleep_duration_min": asleep / 60 if has_sleep and asleep else None,
            "sleep_efficiency": asleep / in_bed if has_sleep and asleep else None,
        },
    }


def _level(
    day: dt.date,
    session_values: dict[str, Any],
    controls: list[tuple[dt.date, dict[str, Any]]],
    metric: str,
    cfg: WindowConfig,
) -> dict[str, Any]:
    """One night or morning measure after the session against the same after control days
    (each side a dict of metric values)."""

    def wv(values: dict[str, Any]) -> sp_response.WindowValues:
        value = values.get(metric)
        return sp_response.WindowValues({metric: value}, None if value is not None else "no_data")

    level = sp_response.level_response(
        day,
        wv(session_values),
        [(d, wv(v)) for d, v in controls],
        metric,
        min_controls=cfg.min_controls,
        nearby_days=cfg.control_days,
    )
    control_values = [wv(v).value(metric) for _, v in controls]
    return {**level.to_dict(), "control_values": [v for v in control_values if v is not None]}


def _load_ranges(
    day: dt.date, far_days: list[dt.date], tz: ZoneInfo, cfg: WindowConfig
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every sample one response reads: the nearby days with their nights and mornings, the
    7-day baseline and the next days in one span, and each far same-weekday control day
    (its windows, night and morning) on its own."""
    first = day - dt.timedelta(days=max(cfg.control_days, recovery.ROLLING_DAYS))
    last = day + dt.timedelta(days=max(cfg.control_days, cfg.next_days) + 1)
    ranges = [recovery.span(first, last, tz)]
    ranges += [recovery.span(d, d + dt.timedelta(days=1), tz) for d in far_days]
    return ranges


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _weekday_confound(day: dt.date, primary: sp_response.MetricResponse, min_controls: int) -> str | None:
    """The plain statement of the weekday confound when the controls could not match it."""
    if primary.weekday_matched:
        return None
    name = _WEEKDAYS[day.weekday()]
    have = (
        "no control day falls on a " + name
        if primary.same_weekday_controls == 0
        else f"only {primary.same_weekday_controls} control day(s) fall on a {name} "
        f"(at least {min_controls} are needed to match the weekday)"
    )
    return (
        f"The session was on a {name} and {have}: anything that happens on {name}s "
        "and not on other days is part of this estimate."
    )


def session_response(
    conn: Conn,
    session: dict[str, Any],
    tz_name: str,
    cfg: WindowConfig = DEFAULT_WINDOWS,
    *,
    include_night: bool = True,
) -> dict[str, Any]:
    """The full response of one session, JSON-ready."""
    tz = ZoneInfo(tz_name)
    person_id = str(session["person_id"])
    start, end = session["starts_at"], session["ends_at"]
    day = start.astimezone(tz).date()
    spans = spans_for(start, end, cfg)
    reach = max(cfg.control_days, cfg.weekday_days)
    nearby = session_repo.in_range(
        conn,
        person_id=person_id,
        start=start - dt.timedelta(days=reach + 1),
        end=start + dt.timedelta(days=reach + 1),
    )
    busy = {s["starts_at"].astimezone(tz).date() for s in nearby}
    candidates = [day + dt.timedelta(days=k) for k in range(-reach, reach + 1)]
    chosen_days = sp_response.control_days(
        day,
        candidates,
        busy,
        max_distance_days=cfg.control_days,
        weekday_distance_days=cfg.weekday_days,
    )
    far = [d for d in chosen_days.days if abs((d - day).days) > cfg.control_days]
    ranges = _load_ranges(day, far, tz, cfg)
    pdata = person_data.load_ranges(conn, person_id, ranges)  # once for every window below
    session_day, chosen, source_id = _session_windows(pdata, day, spans)

    controls = []
    for other in chosen_days.days:
        shifted = Spans(
            pre=(shift_to_day(spans.pre[0], other, tz), shift_to_day(spans.pre[1], other, tz)),
            post=(shift_to_day(spans.post[0], other, tz), shift_to_day(spans.post[1], other, tz)),
        )
        day_windows, _ = _day_windows(pdata, other, shifted, source_id)
        if _usable(day_windows.pre) or _usable(day_windows.post):
            controls.append(day_windows)
    metrics = sp_response.session_response(
        session_day,
        controls,
        WINDOW_METRICS,
        min_controls=cfg.min_controls,
        nearby_days=cfg.control_days,
    )
    during = windows.analyze(pdata, start, end, source_id=source_id)
    same_weekday = [c for c in controls if chosen_days.same_weekday(c.day)]

    result: dict[str, Any] = {
        "session_id": session["id"],
        "person_id": person_id,
        "algorithm_version": cfg.version,
        "computed_at": dt.datetime.now(dt.UTC),
        "status": "insufficient" if session_day.excluded else "ok",
        "insufficient_reason": session_day.excluded,
        "windows": {
            "pre": _describe(session_day.pre, chosen["pre"], spans.pre),
            "during": {
                "descriptive_only": True,
                "start": start,
                "end": end,
                "data_kind": during["data_kind"],
                "status": during["status"],
                "reasons": during["reasons"],
                "mean_hr": (during["hrv"] or during["heart_rate"] or {}).get("mean_hr"),
            },
            "post": _describe(session_day.post, chosen["post"], spans.post),
        },
        "controls": {
            "days": [c.day.isoformat() for c in controls],
            "n_days": len(controls),
            "window_days": cfg.control_days,
            "weekday_window_days": cfg.weekday_days,
            "weekday": _WEEKDAYS[day.weekday()],
            "same_weekday_controls": len(same_weekday),
            "source": pdata.describe(source_id) if source_id is not None else None,
            "weekday_confound": _weekday_confound(day, metrics[sp_response.PRIMARY_METRIC], cfg.min_controls),
        },
        "metrics": {
            name: {
                **r.to_dict(),
                "control_changes": [c.change(name) for c in controls if c.change(name) is not None],
            }
            for name, r in metrics.items()
        },
    }
    if include_night:
        load_span = (min(a for a, _ in ranges), max(b for _, b in ranges))
        sleep_rows = observations.sleep_episodes(conn, person_id, *load_span)
        blocks = recovery.main_sleep_blocks(sleep_rows, tz)
        result["night"] = _nights(pdata, sleep_rows, blocks, tz, day, chosen_days, cfg)
        measures = recovery.measures(
            pdata,
            sleep_rows,
            tz,
            day - dt.timedelta(days=6),
            day + dt.timedelta(days=cfg.next_days),
        )
        result["next_days"] = _next_days(pdata, blocks, tz, measures, day, chosen_days, cfg)
    return result


def _nights(
    pdata,
    sleep_rows,
    blocks,
    tz: ZoneInfo,
    day: dt.date,
    chosen_days: sp_response.ControlDays,
    cfg: WindowConfig,
) -> dict[str, Any]:
    """The night after the session against the nights after the control days."""
    night = _night(pdata, sleep_rows, blocks, tz, day)
    control_nights = [(d, _night(pdata, sleep_rows, blocks, tz, d)["values"]) for d in chosen_days.days]
    return {
        "start": night["start"],
        "end": night["end"],
        "from": night["from"],
        "metrics": {m: _level(day, night["values"], control_nights, m, cfg) for m in NIGHT_METRICS},
    }


def _describe(
    values: sp_response.WindowValues,
    window: dict[str, Any] | None,
    search: tuple[dt.datetime, dt.datetime],
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "search": {"start": search[0], "end": search[1]},
        "data_kind": values.data_kind,
        "insufficient_reason": values.insufficient_reason,
    }
    if window is not None:
        body.update(
            start=window["start"],
            end=window["end"],
            source=window["source"],
            status=window["status"],
            quality=window["quality"],
        )
    return body


def _next_days(
    pdata,
    blocks: dict[dt.date, tuple],
    tz: ZoneInfo,
    measures: list[recovery.DayMeasure],
    day: dt.date,
    chosen_days: sp_response.ControlDays,
    cfg: WindowConfig,
) -> dict[str, Any]:
    """Recovery: the next morning against the mornings after the control days, and the
    daily measures of the days after beside the 7-day baseline up to the session.

    The morning is its own measurement (the first valid window after waking,
    :func:`recovery.morning_window`), never the night's lnRMSSD, so the sleep and recovery
    claims do not rest on one number.
    """

    def morning(of: dt.date) -> dict[str, Any]:
        found = recovery.morning_window(pdata, of + dt.timedelta(days=1), tz, blocks)
        return {
            "morning_ln_rmssd": found[0] if found else None,
            "window": {"start": found[2][0], "end": found[2][1]} if found else None,
        }

    after_session = morning(day)
    control_mornings = [(d, morning(d)) for d in chosen_days.days]
    values = np.array([np.nan if m.ln_rmssd is None else m.ln_rmssd for m in measures])
    days = np.array([m.day for m in measures], dtype="datetime64[D]")
    status = dict(
        zip((m.day for m in measures), measure_status(days, values, "morning_ln_rmssd"), strict=True)
    )[day]
    baseline = status.rolling_7d
    return {
        "morning": {
            **_level(day, after_session, control_mornings, "morning_ln_rmssd", cfg),
            "window": after_session["window"],
        },
        "baseline_ln_rmssd_7d": baseline,
        "baseline_days": status.n_days_7d,
        "days": [
            {
                "date": m.day.isoformat(),
                "ln_rmssd": m.ln_rmssd,
                "resting_hr": m.resting_hr,
                "measured_from": m.measured_from,
                "vs_baseline": (
                    m.ln_rmssd - baseline if m.ln_rmssd is not None and baseline is not None else None
                ),
            }
            for m in measures
            if m.day > day
        ],
    }


def json_ready(value: Any) -> Any:
    """The body as it is stored and served: datetimes as ISO 8601 strings."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat()))


def cached_session_response(
    conn: Conn,
    session: dict[str, Any],
    tz_name: str,
    cfg: WindowConfig = DEFAULT_WINDOWS,
) -> dict[str, Any]:
    """The stored response when the data it came from is unchanged, else a fresh one (stored).

    The fingerprint (``responses.data_version``) moves with every completed
    import and every session change, so late-arriving data is picked up on the
    next read; a new algorithm version recomputes too.
    """
    person_id = str(session["person_id"])
    version = responses.data_version(conn, person_id)
    stored = responses.current(conn, session["id"], algorithm_version=cfg.version, version=version)
    if stored is not None:
        return stored
    body = json_ready(session_response(conn, session, tz_name, cfg))
    responses.put(
        conn,
        session_id=session["id"],
        person_id=person_id,
        algorithm_version=cfg.version,
        version=version,
        body=body,
    )
    return body
