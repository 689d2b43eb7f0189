"""Breathing rate from the RR series: the respiratory sinus arrhythmia (RSA) peak of its spectrum.

The heart speeds up on the in-breath and slows on the out-breath (RSA), so the spectrum of the
evenly resampled NN series has a peak at the breathing frequency. At ordinary rates (10-20
breaths/min) that peak lies in the HF band (0.15-0.40 Hz) and HF power measures RSA. Relaxed
breathing below 9 breaths/min (0.15 Hz) moves the peak into the LF band: HF then falls while
vagal activity may be rising, and LF and LF/HF grow for a reason that has nothing to do with
sympathetic activity. A window whose estimated rate is below the HF band therefore carries a
flag that its band-power measures are unreliable (:data:`BAND_DEPENDENT_METRICS`).

Choosing the peak
    A resting spectrum usually has two peaks: Mayer waves near 0.1 Hz and RSA at the breathing
    rate. Mayer waves are often the larger one (LF/HF of 1-3 at rest), so the largest peak is
    not the breathing rate. The rule is therefore:

    1. the largest local maximum at or above 0.15 Hz (up to the lower of 0.6 Hz and half the
       mean heart rate: the heart samples the breathing once per beat) is the breathing peak
       when its power (within +-0.03 Hz) is at least ``MIN_HF_TO_LF_PEAK`` of the largest
       below-0.15 Hz peak's;
    2. otherwise the largest local maximum in 0.07-0.15 Hz is the breathing peak (slow
       breathing: RSA at these rates is large and the HF band holds nothing comparable);
    3. ``None`` with a reason when the chosen peak is not concentrated (less than
       ``MIN_PEAK_SHARE`` of the power within +-0.03 Hz, out of 0.15 Hz-top for an HF peak or
       0.07 Hz-top for a slow one: a flat spectrum) or a second, separate peak in the same
       sub-band is nearly as large (``ambiguous``).

    Rule 2 cannot tell slow breathing from strong Mayer waves with RSA too small to see; in
    both cases the HF band holds no clear RSA peak, so flagging HF as unreliable is right
    either way, but the reported rate is then an upper-bound guess. Without a respiration
    belt no RR-only method can separate the two.

References
----------
* Task Force of the ESC and NASPE (1996). Heart rate variability: standards of measurement,
  physiological interpretation and clinical use. Circulation, 93(5), 1043-1065 (HF band
  0.15-0.4 Hz, RSA).
* A study of slow deep breathing at 6 breaths/min, PubMed Central PMC11268930: its abstract
  states that the low breathing rate "results in deviations when estimating RSA by HRV"
  (abstract verified with the search tool; authors and title not recorded here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.signal

from signal_processing.hrv import HF_BAND, spectrum

#: Plausible breathing frequencies (Hz): 4.2-36 breaths/min.
BREATHING_BAND_HZ = (0.07, 0.60)
#: Half-width (Hz) of the band around a peak whose power is the peak's power.
PEAK_HALF_WIDTH_HZ = 0.03
#: The chosen peak's lobe must hold at least this share of its search band's power
#: (0.15 Hz-top for an HF peak, 0.07 Hz-top for a slow one), or the spectrum is too flat.
MIN_PEAK_SHARE = 0.35
#: An HF-range peak is taken as the breathing peak when its power is at least this share of
#: the largest LF-range peak's (normal resting LF/HF is ~1-3, so an RSA peak is well above it).
MIN_HF_TO_LF_PEAK = 0.10
#: A second peak in the same sub-band with this share of the first's power makes it ambiguous.
AMBIGUOUS_PEAK_RATIO = 0.7
#: Fewest seconds of data: ~8 cycles of the slowest breathing in the band.
MIN_SECONDS = 120.0
#: Spectral measures that depend on where the LF/HF boundary falls relative to the breathing.
BAND_DEPENDENT_METRICS: tuple[str, ...] = ("lf", "hf", "lf_hf", "hf_nu")

Reason = Literal["too_short", "no_clear_peak", "ambiguous"]


@dataclass(frozen=True)
class BreathingEstimate:
    """Breathing rate from the RSA peak; ``rate_per_min`` is ``None`` exactly when ``reason`` is set."""

    rate_per_min: float | None = None
    frequency_hz: float | None = None
    peak_share: float | None = None  # share of the search band's power in the peak's lobe
    below_hf_band: bool = False  # rate < 9 breaths/min: LF, HF, LF/HF, HF n.u. unreliable
    reason: Reason | None = None


def estimate_breathing(nn_ms: np.ndarray, times_s: np.ndarray | None = None) -> BreathingEstimate:
    """Breathing rate (breaths/min) of one contiguous window of NN intervals, or a reason."""
    nn = np.asarray(nn_ms, dtype=float)
    t = np.cumsum(nn) / 1000.0 if times_s is None else np.asarray(times_s, dtype=float)
    if nn.size < 3 or t[-1] - t[0] + nn[0] / 1000.0 < MIN_SECONDS:
        return BreathingEstimate(reason="too_short")
    freq, psd = spectrum(nn, t)
    top = min(BREATHING_BAND_HZ[1], 0.5 * 1000.0 / float(np.mean(nn)))  # Nyquist of beat sampling
    peaks = _peaks(freq, psd, BREATHING_BAND_HZ[0], top)
    slow = _strongest([p for p in peaks if p.frequency < HF_BAND[0]])
    fast = _strongest([p for p in peaks if p.frequency >= HF_BAND[0]])
    if fast is not None and (slow is None or fast.power >= MIN_HF_TO_LF_PEAK * slow.power):
        chosen, rivals, reference = fast, [p for p in peaks if p.frequency >= HF_BAND[0]], (HF_BAND[0], top)
    elif slow is not None:
        chosen, rivals, reference = (
            slow,
            [p for p in peaks if p.frequency < HF_BAND[0]],
            (BREATHING_BAND_HZ[0], top),
        )
    else:
        return BreathingEstimate(reason="no_clear_peak")
    total = _power(freq, psd, *reference)
    share = min(chosen.power / total, 1.0) if total > 0 else 0.0
    if share < MIN_PEAK_SHARE:
        return BreathingEstimate(peak_share=share, reason="no_clear_peak")
    separate = [p.power for p in rivals if abs(p.frequency - chosen.frequency) > 2 * PEAK_HALF_WIDTH_HZ]
    if separate and max(separate) >= AMBIGUOUS_PEAK_RATIO * chosen.power:
        return BreathingEstimate(peak_share=share, reason="ambiguous")
    return BreathingEstimate(
        rate_per_min=60.0 * chosen.frequency,
        frequency_hz=chosen.frequency,
        peak_share=share,
        below_hf_band=chosen.frequency < HF_BAND[0],
    )


@dataclass(frozen=True)
class _Peak:
    frequency: float
    power: float  # ms^2 over the peak's own lobe, at most +-PEAK_HALF_WIDTH_HZ


def _peaks(freq: np.ndarray, psd: np.ndarray, lo: float, hi: float) -> list[_Peak]:
    """Local maxima of the PSD with lo <= f < hi, each with the power of its own lobe.

    A lobe runs from the peak to the lowest point before a higher peak on each side
    (scipy's prominence bases), capped at +-PEAK_HALF_WIDTH_HZ, so a ripple on the flank of a
    large peak is not credited with the large peak's power.
    """
    idx, props = scipy.signal.find_peaks(psd, prominence=0.0)
    keep = (freq[idx] >= lo) & (freq[idx] < hi)
    out = []
    for i, left, right in zip(idx[keep], props["left_bases"][keep], props["right_bases"][keep], strict=True):
        a = max(freq[left], freq[i] - PEAK_HALF_WIDTH_HZ)
        b = min(freq[right], freq[i] + PEAK_HALF_WIDTH_HZ)
        out.append(_Peak(float(freq[i]), _power(freq, psd, a, b)))
    return out


def _strongest(peaks: list[_Peak]) -> _Peak | None:
    return max(peaks, key=lambda p: p.power) if peaks else None


def _power(freq: np.ndarray, psd: np.ndarray, lo: float, hi: float) -> float:
    m = (freq >= lo) & (freq <= hi)
    return float(np.trapezoid(psd[m], freq[m])) if m.sum() >= 2 else 0.0
