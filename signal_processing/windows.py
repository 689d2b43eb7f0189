"""Window quality and per-window results for beat-to-beat, heart-rate-only and device-HRV data.

A window's beat-to-beat HRV is computed only when its quality passes the thresholds of
DESIGN.md section 5; otherwise the result carries machine-readable reasons and no metrics.
Windows that only have heart-rate samples or device-computed HRV get the measures those data
support, labelled with their ``data_kind``; they are never presented as beat-to-beat HRV.

Reason codes
------------
``no_data``             nothing usable in the window
``too_short``           window shorter than ``min_duration_s``
``low_coverage``        sum of NN / window length below ``min_coverage``
``too_many_artifacts``  first-pass artifact share above ``max_artifact_share``
``gap_too_long``        a gap longer than ``max_gap_s``: frequency measures withheld
``lf_needs_2_min`` / ``lf_hf_needs_5_min``  window too short for those spectral measures
``slow_breathing``      breathing rate from the RR series below the HF band (< 9 /min): LF, HF,
                        LF/HF and HF n.u. stay in ``hrv`` but are listed in
                        ``unreliable_metrics`` and must not be used as evidence
``heart_rate_only``     only heart-rate samples: no beat-to-beat HRV
``device_hrv_only``     only device-computed SDNN/RMSSD: no beat-to-beat HRV
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from signal_processing.hrv import (
    ALGORITHM_VERSION,
    MIN_SECONDS_LF,
    MIN_SECONDS_LF_HF,
    HRVMetrics,
    compute_hrv,
)
from signal_processing.indices import StressIndices, stress_indices
from signal_processing.respiration import (
    BAND_DEPENDENT_METRICS,
    BreathingEstimate,
    estimate_breathing,
)
from signal_processing.respiration import (
    MIN_SECONDS as MIN_SECONDS_BREATHING,
)
from signal_processing.rr import CleanedRR

DataKind = Literal["beat_to_beat", "heart_rate_only", "device_hrv", "none"]
#: ok: beat-to-beat HRV computed; partial: computed but some measures withheld or flagged
#: unreliable (see reasons and ``unreliable_metrics``);
#: limited: only heart-rate or device-HRV measures; insufficient: no numbers at all.
Status = Literal["ok", "partial", "limited", "insufficient"]


@dataclass(frozen=True)
class QualityThresholds:
    """Defaults from DESIGN.md section 5."""

    min_coverage: float = 0.90
    max_artifact_share: float = 0.05
    max_gap_s: float = 10.0
    min_duration_s: float = 120.0


@dataclass(frozen=True)
class WindowQuality:
    duration_s: float
    n_input_beats: int = 0
    n_intervals: int = 0
    coverage: float = 0.0  # sum of NN / window length
    artifact_share: float | None = None  # first-pass flagged beats / input beats
    longest_gap_s: float = 0.0  # longest stretch of the window without usable beats


@dataclass(frozen=True)
class HeartRateSummary:
    """From heart-rate samples (bpm), e.g. a watch's optical HR; not HRV."""

    mean_hr: float
    min_hr: float
    max_hr: float
    n_samples: int


@dataclass(frozen=True)
class DeviceHRVSummary:
    """Device-computed HRV readings as recorded (Apple: SDNN; Garmin/Fitbit: RMSSD).

    Kept apart from beat-to-beat metrics: the device's window, cleaning and formula are unknown.
    """

    sdnn: float | None = None  # mean of device SDNN readings in the window (ms)
    rmssd: float | None = None  # mean of device RMSSD readings in the window (ms)
    n_readings: int = 0


@dataclass(frozen=True)
class WindowResult:
    start_s: float
    end_s: float
    data_kind: DataKind
    status: Status
    reasons: tuple[str, ...]
    quality: WindowQuality
    hrv: HRVMetrics | None = None
    indices: StressIndices | None = None
    heart_rate: HeartRateSummary | None = None
    device_hrv: DeviceHRVSummary | None = None
    algorithm_version: str = ALGORITHM_VERSION
    extra: dict = field(default_factory=dict)
    #: Breathing rate estimated from the RR series (beat-to-beat windows with spectra only).
    breathing: BreathingEstimate | None = None
    #: Metrics present in ``hrv`` that this window's data make unreliable (keep out of verdicts).
    unreliable_metrics: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return asdict(self)


def window_quality(clean: CleanedRR, start_s: float, end_s: float) -> WindowQuality:
    """Coverage, first-pass artifact share and longest gap of ``[start_s, end_s)``."""
    duration = float(end_s - start_s)
    i0, i1 = np.searchsorted(clean.times_s, [start_s, end_s])
    j0, j1 = np.searchsorted(clean.input_times_s, [start_s, end_s])
    k0, k1 = np.searchsorted(clean.flagged_times_s, [start_s, end_s])
    n_input = int(j1 - j0)
    return WindowQuality(
        duration_s=duration,
        n_input_beats=n_input,
        n_intervals=int(i1 - i0),
        # The first interval may start just before the window: cap at 1.
        coverage=min(float(np.sum(clean.nn_ms[i0:i1]) / 1000.0 / duration), 1.0) if duration > 0 else 0.0,
        artifact_share=float((k1 - k0) / n_input) if n_input else None,
        longest_gap_s=longest_gap(clean.segment_spans, start_s, end_s),
    )


def longest_gap(spans: np.ndarray, start_s: float, end_s: float) -> float:
    """Longest part of ``[start_s, end_s)`` not covered by any segment span (s)."""
    if spans.size == 0:
        return float(end_s - start_s)
    a = np.searchsorted(spans[:, 1], start_s)  # first span ending after the window start
    b = np.searchsorted(spans[:, 0], end_s)  # spans starting before the window end
    inside = spans[a:b]
    if inside.size == 0:
        return float(end_s - start_s)
    lo = np.clip(inside[:, 0], start_s, end_s)
    hi = np.clip(inside[:, 1], start_s, end_s)
    holes = np.concatenate(([lo[0] - start_s], lo[1:] - hi[:-1], [end_s - hi[-1]]))
    return float(max(holes.max(), 0.0))


def analyze_window(
    clean: CleanedRR,
    start_s: float,
    end_s: float,
    *,
    thresholds: QualityThresholds = QualityThresholds(),
) -> WindowResult:
    """Quality-gated HRV and stress indices of one window of a cleaned beat-to-beat series."""
    q = window_quality(clean, start_s, end_s)
    blocking = _blocking_reasons(q, thresholds)
    if blocking:
        return WindowResult(
            start_s, end_s, "beat_to_beat" if q.n_intervals else "none", "insufficient", blocking, q
        )
    i0, i1 = np.searchsorted(clean.times_s, [start_s, end_s])
    nn = clean.nn_ms[i0:i1]
    reasons: list[str] = []
    frequency = q.longest_gap_s <= thresholds.max_gap_s
    if not frequency:
        reasons.append("gap_too_long")
    else:
        if q.duration_s < MIN_SECONDS_LF:
            reasons.append("lf_needs_2_min")
        if q.duration_s < MIN_SECONDS_LF_HF:
            reasons.append("lf_hf_needs_5_min")
    metrics = compute_hrv(
        nn, clean.times_s[i0:i1], clean.segment_id[i0:i1], duration_s=q.duration_s, frequency=frequency
    )
    breathing = None
    unreliable: tuple[str, ...] = ()
    if frequency and q.duration_s >= MIN_SECONDS_BREATHING:
        breathing = estimate_breathing(nn, clean.times_s[i0:i1])
        if breathing.below_hf_band:
            reasons.append("slow_breathing")
            unreliable = tuple(m for m in BAND_DEPENDENT_METRICS if getattr(metrics, m) is not None)
    return WindowResult(
        start_s,
        end_s,
        "beat_to_beat",
        "partial" if reasons else "ok",
        tuple(reasons),
        q,
        hrv=metrics,
        indices=stress_indices(nn, metrics),
        breathing=breathing,
        unreliable_metrics=unreliable,
    )


def analyze_windows(
    clean: CleanedRR,
    starts_s: np.ndarray,
    length_s: float,
    *,
    thresholds: QualityThresholds = QualityThresholds(),
) -> list[WindowResult]:
    """:func:`analyze_window` for windows ``[s, s + length_s)`` at each start ``s``."""
    return [
        analyze_window(clean, float(s), float(s) + length_s, thresholds=thresholds)
        for s in np.asarray(starts_s, dtype=float)
    ]


def tile_starts(start_s: float, end_s: float, length_s: float, step_s: float | None = None) -> np.ndarray:
    """Window starts covering ``[start_s, end_s)`` with ``length_s`` windows every ``step_s``."""
    step = length_s if step_s is None else step_s
    if end_s - start_s < length_s:
        return np.array([start_s], dtype=float)
    return np.arange(start_s, end_s - length_s + 1e-9, step, dtype=float)


def summarize_heart_rate(
    times_s: np.ndarray,
    bpm: np.ndarray,
    start_s: float,
    end_s: float,
    *,
    thresholds: QualityThresholds = QualityThresholds(),
) -> WindowResult:
    """Mean/min/max heart rate of HR samples in the window; labelled ``heart_rate_only``."""
    t = np.asarray(times_s, dtype=float)
    v = np.asarray(bpm, dtype=float)
    m = (t >= start_s) & (t < end_s) & np.isfinite(v) & (v >= 30) & (v <= 220)
    q = WindowQuality(duration_s=float(end_s - start_s))
    if not m.any():
        return WindowResult(start_s, end_s, "none", "insufficient", ("no_data",), q)
    vals = v[m]
    summary = HeartRateSummary(float(vals.mean()), float(vals.min()), float(vals.max()), int(vals.size))
    return WindowResult(
        start_s, end_s, "heart_rate_only", "limited", ("heart_rate_only",), q, heart_rate=summary
    )


def summarize_device_hrv(
    times_s: np.ndarray,
    values_ms: np.ndarray,
    kind: Literal["sdnn", "rmssd"],
    start_s: float,
    end_s: float,
) -> WindowResult:
    """Device HRV readings in the window, reported as the device's ``kind``; never mixed up."""
    if kind not in ("sdnn", "rmssd"):
        raise ValueError(f"device HRV kind must be 'sdnn' or 'rmssd', got {kind!r}")
    t = np.asarray(times_s, dtype=float)
    v = np.asarray(values_ms, dtype=float)
    m = (t >= start_s) & (t < end_s) & np.isfinite(v) & (v > 0)
    q = WindowQuality(duration_s=float(end_s - start_s))
    if not m.any():
        return WindowResult(start_s, end_s, "none", "insufficient", ("no_data",), q)
    value = float(v[m].mean())
    summary = DeviceHRVSummary(n_readings=int(m.sum()), **{kind: value})
    return WindowResult(start_s, end_s, "device_hrv", "limited", ("device_hrv_only",), q, device_hrv=summary)


def _blocking_reasons(q: WindowQuality, th: QualityThresholds) -> tuple[str, ...]:
    """Reasons that withhold every beat-to-beat number."""
    if q.n_intervals < 3:
        return ("no_data",)
    reasons = []
    if q.duration_s < th.min_duration_s:
        reasons.append("too_short")
    if q.coverage < th.min_coverage:
        reasons.append("low_coverage")
    if q.artifact_share is not None and q.artifact_share > th.max_artifact_share:
        reasons.append("too_many_artifacts")
    return tuple(reasons)


Series = tuple[np.ndarray, np.ndarray]  # (times_s, values)


def summarize_window(
    start_s: float,
    end_s: float,
    *,
    clean: CleanedRR | None = None,
    heart_rate: Series | None = None,
    device_sdnn: Series | None = None,
    device_rmssd: Series | None = None,
    thresholds: QualityThresholds = QualityThresholds(),
) -> WindowResult:
    """The best result the window's data support, beat-to-beat first.

    When beat-to-beat data are missing or fail the quality gate, falls back to device HRV
    readings and/or heart-rate samples (``status="limited"``); the beat-to-beat reasons are kept
    in ``reasons`` so the caller can say why no HRV was computed.
    """
    reasons: tuple[str, ...] = ()
    quality = WindowQuality(duration_s=float(end_s - start_s))
    if clean is not None:
        beat = analyze_window(clean, start_s, end_s, thresholds=thresholds)
        if beat.status != "insufficient":
            return beat
        reasons, quality = beat.reasons, beat.quality
    hr = summarize_heart_rate(*heart_rate, start_s, end_s) if heart_rate is not None else None
    hr_summary = hr.heart_rate if hr is not None else None
    dev = {}
    device: tuple[tuple[Literal["sdnn", "rmssd"], tuple[np.ndarray, np.ndarray] | None], ...] = (
        ("sdnn", device_sdnn),
        ("rmssd", device_rmssd),
    )
    for kind, series in device:
        if series is not None:
            r = summarize_device_hrv(*series, kind, start_s, end_s)
            if r.device_hrv is not None:
                dev[kind] = r.device_hrv
    if dev:
        merged = DeviceHRVSummary(
            sdnn=dev["sdnn"].sdnn if "sdnn" in dev else None,
            rmssd=dev["rmssd"].rmssd if "rmssd" in dev else None,
            n_readings=sum(d.n_readings for d in dev.values()),
        )
        return WindowResult(
            start_s,
            end_s,
            "device_hrv",
            "limited",
            _merge_reasons(reasons, "device_hrv_only"),
            quality,
            heart_rate=hr_summary,
            device_hrv=merged,
        )
    if hr_summary is not None:
        return WindowResult(
            start_s,
            end_s,
            "heart_rate_only",
            "limited",
            _merge_reasons(reasons, "heart_rate_only"),
            quality,
            heart_rate=hr_summary,
        )
    return WindowResult(
        start_s,
        end_s,
        "beat_to_beat" if quality.n_intervals else "none",
        "insufficient",
        reasons or ("no_data",),
        quality,
    )


def _merge_reasons(reasons: tuple[str, ...], extra: str) -> tuple[str, ...]:
    # "no_data" for beat-to-beat is implied by the fallback kind.
    return tuple(r for r in reasons if r != "no_data") + (extra,)
