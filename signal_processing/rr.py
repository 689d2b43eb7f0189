"""RR-interval cleaning: physiological bounds, gap splitting, Kubios-style artifact correction.

The pipeline (docs/method.md, "RR cleaning"):

1. **Bounds.** Intervals shorter than ``min_ms`` are merged into the following interval (the beat
   that ended them is treated as a false detection); intervals longer than ``max_ms`` cannot be
   told apart from missing data and split the series.
2. **Gaps.** When beat timestamps are given, a beat whose timestamp does not follow the previous
   beat by its own RR interval (within ``gap_tolerance_s``) starts a new segment: beats were lost
   in between. Gaps are never interpolated across here; they are reported.
3. **Artifacts.** Each segment is converted to peak positions with
   :func:`neurokit2.intervals_to_peaks` and corrected with :func:`neurokit2.signal_fixpeaks`
   (``method="kubios"``; Lipponen & Tarvainen, 2019). The artifact share comes from the first,
   non-iterative pass; correction then iterates exactly as neurokit2's ``iterative=True`` does
   (repeat while the number of detected artifacts decreases), but through the public
   ``iterative=False`` call so the first pass is not computed twice.

References
----------
* Lipponen, J. A., & Tarvainen, M. P. (2019). A robust algorithm for heart rate variability time
  series artefact correction using novel beat classification. Journal of Medical Engineering &
  Technology, 43(3), 173-181. https://doi.org/10.1080/03091902.2019.1640306
* Task Force of the ESC and NASPE (1996). Heart rate variability: standards of measurement,
  physiological interpretation and clinical use. Circulation, 93(5), 1043-1065.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import neurokit2 as nk
import numpy as np

#: Plausible RR range in ms: 300 ms = 200 bpm, 2000 ms = 30 bpm.
PHYSIOLOGICAL_MIN_MS = 300.0
PHYSIOLOGICAL_MAX_MS = 2000.0
#: Timestamp mismatch (s) above which two beats are not successive. Smaller than any
#: physiological RR, so a single lost interval is always detected.
GAP_TOLERANCE_S = 0.25
#: fixpeaks works on integer peak positions; at 1000 Hz one sample is 1 ms.
PEAK_SAMPLING_RATE = 1000
#: Segments with fewer intervals than this are too short to classify beats and are dropped
#: (their time counts as a gap).
MIN_SEGMENT_INTERVALS = 5

ARTIFACT_KINDS = ("ectopic", "missed", "extra", "longshort")


@dataclass(frozen=True)
class CleanedRR:
    """Cleaned NN series plus everything needed to judge a window's quality.

    ``nn_ms[i]`` is the interval that ends at ``times_s[i]``; intervals with different
    ``segment_id`` are not successive (a gap lies between them).
    """

    times_s: np.ndarray
    nn_ms: np.ndarray
    segment_id: np.ndarray
    #: (k, 2) start and end time (s) of each segment's observed span.
    segment_spans: np.ndarray
    #: Timestamps of every input beat (the denominator of the artifact share).
    input_times_s: np.ndarray
    #: Timestamps of input beats flagged by the bounds check or the first fixpeaks pass.
    flagged_times_s: np.ndarray
    #: Counts per artifact kind over the whole input (first pass), plus bounds rejections.
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def n_segments(self) -> int:
        return int(self.segment_spans.shape[0])


def clean_rr(
    rr_ms: np.ndarray,
    times_s: np.ndarray | None = None,
    *,
    min_ms: float = PHYSIOLOGICAL_MIN_MS,
    max_ms: float = PHYSIOLOGICAL_MAX_MS,
    gap_tolerance_s: float = GAP_TOLERANCE_S,
    correct: bool = True,
) -> CleanedRR:
    """Clean an RR series: bounds, split at gaps, Kubios artifact correction per segment.

    Parameters
    ----------
    rr_ms
        RR intervals in milliseconds, in time order.
    times_s
        Time (s, any monotonic clock, e.g. Unix time) of the beat that *ends* each interval.
        When omitted, beats are assumed contiguous: ``times = cumsum(rr) / 1000``.
    correct
        Apply the fixpeaks correction (``False`` only flags, for diagnostics).

    Returns
    -------
    CleanedRR
    """
    rr = np.asarray(rr_ms, dtype=float)
    if times_s is None:
        t = np.cumsum(rr) / 1000.0
    else:
        t = np.asarray(times_s, dtype=float)
        if t.shape != rr.shape:
            raise ValueError("rr_ms and times_s must have the same length")
    finite = np.isfinite(rr) & np.isfinite(t)
    rr, t = rr[finite], t[finite]
    input_times = t.copy()
    flagged: list[np.ndarray] = []
    counts = {k: 0 for k in ARTIFACT_KINDS}

    # Start time of each interval = previous beat; successive when it matches the previous beat.
    starts = t - rr / 1000.0
    successive = np.ones(rr.size, dtype=bool)
    if rr.size:
        successive[0] = False
        successive[1:] = np.abs(starts[1:] - t[:-1]) <= gap_tolerance_s

    # Too-short intervals: drop the ending beat, its time is added to the next interval.
    rr, t, successive, n_short, short_times = _merge_short(rr, t, successive, min_ms)
    counts["too_short"] = n_short
    flagged.append(short_times)

    # Too-long intervals: unknowable, the interval becomes a gap.
    too_long = rr > max_ms
    counts["too_long"] = int(too_long.sum())
    flagged.append(t[too_long])
    if too_long.any():
        nxt = np.flatnonzero(too_long) + 1
        successive[nxt[nxt < rr.size]] = False
        keep = ~too_long
        rr, t, successive = rr[keep], t[keep], successive[keep]

    out_t: list[np.ndarray] = []
    out_nn: list[np.ndarray] = []
    out_seg: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    bounds = np.flatnonzero(~successive).tolist() + [rr.size]
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b - a < MIN_SEGMENT_INTERVALS:
            flagged.append(t[a:b])
            counts["short_segment"] = counts.get("short_segment", 0) + (b - a)
            continue
        seg_start = t[a] - rr[a] / 1000.0
        nn, first_pass = _fix_segment(rr[a:b], correct=correct)
        for kind, idx in first_pass.items():
            counts[kind] += len(idx)
            # Peak index i (i >= 1) is the beat that ends interval i - 1 of the segment.
            beat = np.clip(np.asarray(idx, dtype=int) - 1, 0, b - a - 1)
            flagged.append(t[a:b][beat])
        seg_t = seg_start + np.cumsum(nn) / 1000.0
        sid = len(spans)
        spans.append((seg_start, float(seg_t[-1])))
        out_t.append(seg_t)
        out_nn.append(nn)
        out_seg.append(np.full(nn.size, sid, dtype=np.int64))

    flagged_all = np.sort(np.concatenate(flagged)) if flagged else np.empty(0)
    return CleanedRR(
        times_s=np.concatenate(out_t) if out_t else np.empty(0),
        nn_ms=np.concatenate(out_nn) if out_nn else np.empty(0),
        segment_id=np.concatenate(out_seg) if out_seg else np.empty(0, dtype=np.int64),
        segment_spans=np.asarray(spans, dtype=float).reshape(-1, 2),
        input_times_s=input_times,
        flagged_times_s=flagged_all,
        counts=counts,
    )


def _merge_short(
    rr: np.ndarray, t: np.ndarray, successive: np.ndarray, min_ms: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, np.ndarray]:
    """Merge intervals below ``min_ms`` into the following interval, repeatedly.

    A too-short interval means its ending beat was spurious; deleting that beat lengthens the
    next interval by the same amount. A short interval that ends a segment is simply dropped.
    """
    removed_times: list[np.ndarray] = []
    n_removed = 0
    while True:
        short = np.flatnonzero(rr < min_ms)
        if short.size == 0:
            break
        # Handle non-adjacent ones per round so each merge sees its real neighbour.
        short = short[np.concatenate(([True], np.diff(short) > 1))]
        removed_times.append(t[short])
        n_removed += short.size
        nxt = short + 1
        mergeable = (nxt < rr.size)
        mergeable[mergeable] = successive[nxt[mergeable]]
        rr = rr.copy()
        rr[nxt[mergeable]] += rr[short[mergeable]]
        # The merged interval inherits continuity with what preceded the removed one.
        successive = successive.copy()
        successive[nxt[mergeable]] = successive[short[mergeable]]
        if (~mergeable).any():
            # The following interval (if any) is no longer successive with anything.
            lone = nxt[~mergeable]
            successive[lone[lone < rr.size]] = False
        keep = np.ones(rr.size, dtype=bool)
        keep[short] = False
        rr, t, successive = rr[keep], t[keep], successive[keep]
    times = np.concatenate(removed_times) if removed_times else np.empty(0)
    return rr, t, successive, n_removed, times


def _fix_segment(rr: np.ndarray, *, correct: bool) -> tuple[np.ndarray, dict[str, list[int]]]:
    """Kubios-method correction of one contiguous segment.

    Returns the corrected NN intervals (ms) and the first-pass artifact indices (peak indices).
    """
    peaks = np.asarray(nk.intervals_to_peaks(rr, sampling_rate=PEAK_SAMPLING_RATE), dtype=np.int64)
    first, fixed = _fixpeaks_once(peaks)
    if correct:
        n_current = _n_artifacts(first)
        # Same stopping rule as neurokit2's iterative=True loop: keep correcting while the
        # number of detected artifacts decreases.
        while n_current > 0:
            info, candidate = _fixpeaks_once(fixed)
            n_new = _n_artifacts(info)
            if n_new >= n_current:
                break
            n_current, fixed = n_new, candidate
    else:
        fixed = peaks
    nn = np.diff(fixed).astype(float) * (1000.0 / PEAK_SAMPLING_RATE)
    return nn, {k: list(first[k]) for k in ARTIFACT_KINDS}


def _fixpeaks_once(peaks: np.ndarray) -> tuple[dict, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info, fixed = nk.signal_fixpeaks(
            peaks, sampling_rate=PEAK_SAMPLING_RATE, iterative=False, method="kubios"
        )
    return info, np.asarray(fixed, dtype=np.int64)


def _n_artifacts(info: dict) -> int:
    return sum(len(info[k]) for k in ARTIFACT_KINDS)


def fixpeaks_reference(rr_ms: np.ndarray) -> np.ndarray:
    """NN intervals from neurokit2's own ``signal_fixpeaks(iterative=True)`` (for validation)."""
    peaks = nk.intervals_to_peaks(np.asarray(rr_ms, dtype=float), sampling_rate=PEAK_SAMPLING_RATE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, fixed = nk.signal_fixpeaks(peaks, sampling_rate=PEAK_SAMPLING_RATE, iterative=True,
                                      method="kubios")
    return np.diff(np.asarray(fixed, dtype=np.int64)).astype(float) * (1000.0 / PEAK_SAMPLING_RATE)
