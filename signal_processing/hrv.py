"""Heart rate variability metrics over a cleaned NN series, with a fixed output schema.

Time-domain and Poincaré metrics are computed directly with numpy using the same formulas as
neurokit2 0.3.0 (``hrv_time``, ``hrv_nonlinear``; equality is checked in the tests), because
calling neurokit2 per window also computes dozens of measures we do not report and costs
~0.4 s per 5-minute window. The spectrum follows Kubios' recipe (cubic-spline resampling at
4 Hz, detrending *before* the spectral step, Welch periodogram) and neurokit2's band
integration; DFA alpha1 follows Peng et al. (1995) with 4-16 beat boxes.

All intervals carry a segment id: successive differences and Poincaré pairs are only formed
within a segment, never across a gap.

References
----------
* Task Force of the ESC and NASPE (1996). Heart rate variability: standards of measurement,
  physiological interpretation and clinical use. Circulation, 93(5), 1043-1065.
* Brennan, M., Palaniswami, M., & Kamen, P. (2001). Do existing measures of Poincaré plot
  geometry reflect nonlinear features of heart rate variability? IEEE Trans Biomed Eng, 48(11).
* Peng, C.-K., Havlin, S., Stanley, H. E., & Goldberger, A. L. (1995). Quantification of scaling
  exponents and crossover phenomena in nonstationary heartbeat time series. Chaos, 5(1), 82-87.
* Tarvainen, M. P., Ranta-aho, P. O., & Karjalainen, P. A. (2002). An advanced detrending method
  with application to HRV analysis. IEEE Trans Biomed Eng, 49(2), 172-175.
* Welch, P. (1967). The use of fast Fourier transform for the estimation of power spectra.
  IEEE Trans Audio Electroacoust, 15(2), 70-73.
* Makowski, D., et al. (2021). NeuroKit2: A Python toolbox for neurophysiological signal
  processing. Behavior Research Methods, 53(4), 1689-1696.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal, TypedDict

import numpy as np
import scipy.interpolate
import scipy.linalg
import scipy.signal

#: Bump whenever a formula, default or threshold that changes a stored number changes.
ALGORITHM_VERSION = "hrv-2"  # hrv-2: DFA alpha1 keeps every box (Peng 1995)

LF_BAND = (0.04, 0.15)
HF_BAND = (0.15, 0.40)
#: Resampling rate of the NN series before the spectrum (Kubios default).
INTERPOLATION_RATE_HZ = 4.0
#: Minimum window lengths (s) per measure (Task Force 1996: 1 min for HF, 2 min for LF;
#: 5 min is the standard short-term recording for the LF/HF balance).
MIN_SECONDS_HF = 60.0
MIN_SECONDS_LF = 120.0
MIN_SECONDS_LF_HF = 300.0
#: A recording "of 5 minutes" rarely sums to exactly 300 s: allow this much short of a limit.
DURATION_TOLERANCE_S = 2.0
#: DFA alpha1 box sizes in beats (Peng 1995; Kubios and pyhrv use 4-16).
DFA_ALPHA1_SCALES = np.arange(4, 17)
#: Fewest contiguous intervals for DFA alpha1: the largest box must fit at least 4 times.
MIN_BEATS_DFA = 4 * int(DFA_ALPHA1_SCALES[-1])
#: Smoothness-priors regularisation used when ``detrend="smoothness_priors"`` (Kubios default).
SMOOTHNESS_PRIORS_LAMBDA = 500.0

Detrend = Literal["linear", "smoothness_priors", "none"]
Interpolation = Literal["cubic", "quadratic", "linear"]


@dataclass(frozen=True)
class HRVMetrics:
    """Every field is always present; ``None`` when not computable for this window."""

    mean_rr: float | None = None  # ms
    mean_hr: float | None = None  # bpm, mean of 60000 / NN
    sdnn: float | None = None  # ms
    rmssd: float | None = None  # ms
    ln_rmssd: float | None = None  # ln(ms)
    pnn50: float | None = None  # %
    lf: float | None = None  # ms^2
    hf: float | None = None  # ms^2
    lf_hf: float | None = None
    hf_nu: float | None = None  # %
    sd1: float | None = None  # ms
    sd2: float | None = None  # ms
    dfa_alpha1: float | None = None
    n_intervals: int = 0
    algorithm_version: str = ALGORITHM_VERSION

    def as_dict(self) -> dict[str, float | int | str | None]:
        return asdict(self)


class TimeDomain(TypedDict):
    """The time-domain measures of :func:`time_domain`, keyed as :class:`HRVMetrics` fields."""

    mean_rr: float
    mean_hr: float
    sdnn: float
    rmssd: float | None
    ln_rmssd: float | None
    pnn50: float | None


METRIC_NAMES: tuple[str, ...] = tuple(
    k for k in HRVMetrics.__dataclass_fields__ if k not in ("n_intervals", "algorithm_version")
)


def compute_hrv(
    nn_ms: np.ndarray,
    times_s: np.ndarray | None = None,
    segment_id: np.ndarray | None = None,
    *,
    duration_s: float | None = None,
    frequency: bool = True,
    detrend: Detrend = "linear",
) -> HRVMetrics:
    """All HRV metrics of one window of NN intervals.

    Parameters
    ----------
    nn_ms
        Cleaned NN intervals (ms).
    times_s
        Time of the beat ending each interval; default ``cumsum(nn) / 1000``.
    segment_id
        Intervals with different ids are not successive; default: one segment.
    duration_s
        Window length deciding which spectral measures are allowed (LF >= 2 min,
        LF/HF and HF n.u. >= 5 min); default: the span of the data.
    frequency
        ``False`` skips LF/HF entirely (e.g. the window has a gap too long to interpolate).
    """
    nn = np.asarray(nn_ms, dtype=float)
    if nn.size < 3:
        return HRVMetrics(n_intervals=int(nn.size))
    t = np.cumsum(nn) / 1000.0 if times_s is None else np.asarray(times_s, dtype=float)
    seg = np.zeros(nn.size, dtype=np.int64) if segment_id is None else np.asarray(segment_id)
    same = seg[1:] == seg[:-1]  # pairs (i, i+1) that are successive

    td = time_domain(nn, same)
    sd1, sd2 = poincare(nn, same)
    span = float(t[-1] - t[0] + nn[0] / 1000.0)
    duration = (span if duration_s is None else float(duration_s)) + DURATION_TOLERANCE_S
    lf = hf = lf_hf = hf_nu = None
    if frequency and duration >= MIN_SECONDS_HF:
        lf_raw, hf_raw = band_powers(nn, t, detrend=detrend)
        hf = hf_raw
        if duration >= MIN_SECONDS_LF:
            lf = lf_raw
        if duration >= MIN_SECONDS_LF_HF and lf_raw is not None and hf_raw:
            lf_hf = lf_raw / hf_raw
            hf_nu = 100.0 * hf_raw / (lf_raw + hf_raw)
    return HRVMetrics(
        **td,
        lf=lf,
        hf=hf,
        lf_hf=lf_hf,
        hf_nu=hf_nu,
        sd1=sd1,
        sd2=sd2,
        dfa_alpha1=dfa_alpha1(_longest_run(nn, seg)),
        n_intervals=int(nn.size),
    )


def time_domain(nn: np.ndarray, successive: np.ndarray | None = None) -> TimeDomain:
    """Mean RR, mean HR, SDNN, RMSSD, lnRMSSD and pNN50 (Task Force 1996).

    SDNN uses the sample SD (ddof=1). pNN50 = NN50 / (number of successive differences + 1),
    which is neurokit2's denominator and equals the Task Force's "all NN intervals" for a
    contiguous series (pyhrv divides by the number of differences, N - 1).
    """
    diff = np.diff(nn)
    if successive is not None:
        diff = diff[successive]
    rmssd = float(np.sqrt(np.mean(diff**2))) if diff.size else None
    return {
        "mean_rr": float(np.mean(nn)),
        "mean_hr": float(np.mean(60000.0 / nn)),
        "sdnn": float(np.std(nn, ddof=1)),
        "rmssd": rmssd,
        "ln_rmssd": float(np.log(rmssd)) if rmssd else None,
        "pnn50": float(np.sum(np.abs(diff) > 50.0) / (diff.size + 1) * 100.0) if diff.size else None,
    }


def poincare(nn: np.ndarray, successive: np.ndarray | None = None) -> tuple[float | None, float | None]:
    """SD1 and SD2: SDs of the Poincaré cloud across and along the identity line (Brennan 2001).

    SD1 = std((x_n - x_{n+1}) / sqrt 2), SD2 = std((x_n + x_{n+1}) / sqrt 2), sample SD (ddof=1)
    over successive pairs, as neurokit2 computes them.
    """
    x, y = nn[:-1], nn[1:]
    if successive is not None:
        x, y = x[successive], y[successive]
    if x.size < 2:
        return None, None
    return (float(np.std((x - y) / np.sqrt(2.0), ddof=1)), float(np.std((x + y) / np.sqrt(2.0), ddof=1)))


def resample(
    nn: np.ndarray,
    times_s: np.ndarray,
    *,
    rate: float = INTERPOLATION_RATE_HZ,
    interpolation: Interpolation = "cubic",
) -> np.ndarray:
    """NN intervals as an evenly sampled signal at ``rate`` Hz (spline through the beat times).

    The grid is neurokit2's: from the first beat to one sample past the last, with the edge
    values held outside the data.
    """
    t = times_s - times_s[0]
    if np.any(np.diff(t) <= 0):  # splines need strictly increasing times
        keep = np.concatenate(([True], np.diff(t) > 0))
        t, nn = t[keep], nn[keep]
    grid = np.arange(0.0, t[-1] + 1.0 / rate, 1.0 / rate)
    f = scipy.interpolate.interp1d(
        t, nn, kind=interpolation, bounds_error=False, fill_value=(nn[0], nn[-1]), assume_sorted=True
    )
    return f(grid)


def smoothness_priors_detrend(x: np.ndarray, lam: float = SMOOTHNESS_PRIORS_LAMBDA) -> np.ndarray:
    """Remove the smoothness-priors trend (Tarvainen et al. 2002): x - (I + lam^2 D2'D2)^-1 x.

    Solved as a symmetric pentadiagonal system in O(n) (neurokit2's ``signal_detrend(method=
    "tarvainen2002")`` inverts a dense matrix; the result is the same, see tests).
    """
    n = x.size
    if n < 5:
        return x - np.mean(x)
    main = np.full(n, 6.0)
    main[[0, -1]] = 1.0
    main[[1, -2]] = 5.0
    off1 = np.full(n - 1, -4.0)
    off1[[0, -1]] = -2.0
    l2 = lam * lam
    ab = np.zeros((3, n))
    ab[2] = 1.0 + l2 * main
    ab[1, 1:] = l2 * off1
    ab[0, 2:] = l2
    return x - scipy.linalg.solveh_banded(ab, x, check_finite=False)


def welch_psd(x: np.ndarray, rate: float = INTERPOLATION_RATE_HZ) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD (ms^2/Hz) with neurokit2's defaults for one window of N samples.

    Hann window, segment length N/2 (50 % overlap, three segments), FFT length 2 x segment.
    """
    x = x - np.mean(x)
    nperseg = max(x.size // 2, 8)
    return scipy.signal.welch(
        x,
        fs=rate,
        window="hann",
        nperseg=nperseg,
        nfft=2 * nperseg,
        detrend=False,
        scaling="density",
        average="mean",
    )


def band_power(freq: np.ndarray, psd: np.ndarray, band: tuple[float, float]) -> float | None:
    """Trapezoidal integral of the PSD over ``band[0] <= f < band[1]`` (as neurokit2)."""
    m = (freq >= band[0]) & (freq < band[1])
    if m.sum() < 2:
        return None
    power = float(np.trapezoid(psd[m], freq[m]))
    return power if power > 0 else None


def spectrum(
    nn: np.ndarray,
    times_s: np.ndarray,
    *,
    detrend: Detrend = "linear",
    interpolation: Interpolation = "cubic",
    rate: float = INTERPOLATION_RATE_HZ,
) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD (ms^2/Hz) of the NN series: resample at ``rate`` Hz, detrend, Welch.

    Detrending happens here, before the spectrum: neurokit2 0.3.0's own ``hrv_frequency(
    detrend=...)`` forwards the argument to ``scipy.signal.welch`` as well and raises a
    TypeError ("got multiple values for keyword argument 'detrend'").
    """
    x = resample(nn, times_s, rate=rate, interpolation=interpolation)
    if detrend == "linear":
        x = scipy.signal.detrend(x, type="linear")
    elif detrend == "smoothness_priors":
        x = smoothness_priors_detrend(x)
    return welch_psd(x, rate)


def band_powers(
    nn: np.ndarray,
    times_s: np.ndarray,
    *,
    detrend: Detrend = "linear",
    interpolation: Interpolation = "cubic",
    rate: float = INTERPOLATION_RATE_HZ,
) -> tuple[float | None, float | None]:
    """Absolute LF and HF power (ms^2) integrated from :func:`spectrum`."""
    freq, psd = spectrum(nn, times_s, detrend=detrend, interpolation=interpolation, rate=rate)
    return band_power(freq, psd, LF_BAND), band_power(freq, psd, HF_BAND)


def dfa_alpha1(nn: np.ndarray, scales: np.ndarray = DFA_ALPHA1_SCALES) -> float | None:
    """Short-term DFA scaling exponent alpha1, exactly as defined by Peng et al. (1995).

    Profile y(k) = sum_{i<=k} (nn_i - mean nn). For each box size n (4-16 beats), y is cut into
    floor(N / n) non-overlapping boxes from the first beat (a remainder shorter than n is left
    out), a least-squares line is removed in each box, and F(n) is the root mean square of all
    residuals. alpha1 is the least-squares slope of log F(n) on log n. Every box counts: a box
    whose residuals are (near) zero is a real observation of low fluctuation, not an error, so
    none is dropped (neurokit2's multifractal code drops them; on a 126-beat Garmin recording
    with few distinct values that gave 0.63 instead of 0.92). ``None`` below
    ``MIN_BEATS_DFA`` beats or when some F(n) is zero (a perfectly linear profile).
    """
    nn = np.asarray(nn, dtype=float)
    if nn.size < MIN_BEATS_DFA:
        return None
    y = np.cumsum(nn - nn.mean())
    fluct = np.empty(scales.size)
    for i, n in enumerate(scales):
        k = y.size // n
        boxes = y[: k * n].reshape(k, n)
        xc = np.arange(n, dtype=float) - (n - 1) / 2.0
        # Residuals of a per-box least-squares line, in closed form.
        yc = boxes - boxes.mean(axis=1, keepdims=True)
        resid = yc - np.outer((yc @ xc) / (xc @ xc), xc)
        fluct[i] = np.sqrt(np.mean(resid**2))
    if not np.all(np.isfinite(fluct)) or np.any(fluct <= 0):
        return None
    return float(np.polyfit(np.log(scales), np.log(fluct), 1)[0])


def _longest_run(nn: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """The longest contiguous (single-segment) stretch: DFA needs an unbroken beat sequence."""
    if seg.size == 0 or seg[0] == seg[-1]:
        return nn
    edges = np.flatnonzero(np.diff(seg)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [seg.size]))
    j = int(np.argmax(ends - starts))
    return nn[starts[j] : ends[j]]
