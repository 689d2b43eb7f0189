"""Stress and autonomic indices: Baevsky's stress index and Kubios-style PNS/SNS indices.

Baevsky stress index
    SI = AMo / (2 * Mo * MxDMn) over a histogram of NN intervals with 50 ms bins
    (Baevsky & Chernikova 2017; the 50 ms bin width is the one Kubios documents).
    Mo = centre of the modal bin (s), AMo = share of intervals in the modal bin (%),
    MxDMn = max NN - min NN (s). Kubios reports the square root of SI, to make it closer to
    normally distributed; both are returned.

Kubios-style PNS and SNS indices
    PNS = mean of z(mean RR), z(RMSSD), z(SD1); SNS = mean of z(mean HR), z(sqrt SI), z(SD2),
    where z(x) = (x - norm mean) / norm SD. Kubios does not publish its normative values, so
    these are *Kubios-style* indices on published short-term norms (see ``NORMS``): they are
    not numerically comparable to Kubios' own PNS/SNS.

References
----------
* Baevsky, R. M., & Chernikova, A. G. (2017). Heart rate variability analysis: physiological
  foundations and main methods. Cardiometry, 10, 66-76.
* Nunan, D., Sandercock, G. R. H., & Brodie, D. A. (2010). A quantitative systematic review of
  normal values for short-term heart rate variability in healthy adults. Pacing and Clinical
  Electrophysiology, 33(11), 1407-1417.
* Tarvainen, M. P., Lipponen, J., Niskanen, J.-P., & Ranta-aho, P. O. (2021). Kubios HRV
  (ver. 3.5) user's guide. Kubios Oy. (Definition of the PNS/SNS indices and of sqrt SI.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from signal_processing.hrv import HRVMetrics

SI_BIN_MS = 50.0


@dataclass(frozen=True)
class Norm:
    mean: float
    sd: float
    source: str


def _sd2_norm() -> Norm:
    # SD2^2 = 2 SDNN^2 - SD1^2 (Brennan 2001) with SD1 = RMSSD / sqrt 2; SD by first-order
    # error propagation treating SDNN and RMSSD as independent (an overestimate: they correlate).
    sdnn, sdnn_sd, rmssd, rmssd_sd = 50.0, 16.0, 42.0, 15.0
    sd2 = math.sqrt(2 * sdnn**2 - rmssd**2 / 2)
    d_sdnn, d_rmssd = 2 * sdnn / sd2, (rmssd / 2) / sd2
    return Norm(sd2, math.hypot(d_sdnn * sdnn_sd, d_rmssd * rmssd_sd),
                "derived from Nunan 2010 SDNN and RMSSD: SD2 = sqrt(2 SDNN^2 - RMSSD^2 / 2)")


#: Short-term (5 min, supine/seated rest) norms for healthy adults.
NORMS: dict[str, Norm] = {
    "mean_rr": Norm(926.0, 90.0, "Nunan et al. 2010, mean RR (ms)"),
    "sdnn": Norm(50.0, 16.0, "Nunan et al. 2010, SDNN (ms)"),
    "rmssd": Norm(42.0, 15.0, "Nunan et al. 2010, RMSSD (ms)"),
    # 60000 / RR and first-order SD: 60000 * 90 / 926^2.
    "mean_hr": Norm(60000.0 / 926.0, 60000.0 * 90.0 / 926.0**2,
                    "derived from Nunan 2010 mean RR: HR = 60000 / RR"),
    # SD1 = RMSSD / sqrt 2 exactly (Brennan 2001), so its norm is the RMSSD norm scaled.
    "sd1": Norm(42.0 / math.sqrt(2), 15.0 / math.sqrt(2),
                "derived from Nunan 2010 RMSSD: SD1 = RMSSD / sqrt 2"),
    "sd2": _sd2_norm(),
    # Baevsky's normal resting range SI 50-150 read as mean 100 +- 2 SD (SD 25); sqrt by
    # first-order propagation: sqrt(100) = 10, SD 25 / (2 * 10) = 1.25.
    "sqrt_si": Norm(10.0, 1.25, "derived from Baevsky's normal range SI 50-150 (mean +- 2 SD)"),
}


@dataclass(frozen=True)
class StressIndices:
    stress_index: float | None = None  # Baevsky SI
    sqrt_stress_index: float | None = None  # as Kubios reports "Stress index"
    pns_index: float | None = None  # Kubios-style
    sns_index: float | None = None  # Kubios-style
    label: str = "Kubios-style PNS/SNS on published norms (Nunan 2010), not Kubios' own values"


def baevsky_stress_index(nn_ms: np.ndarray, bin_ms: float = SI_BIN_MS) -> float | None:
    """Baevsky SI = AMo / (2 Mo MxDMn); AMo in %, Mo and MxDMn in seconds.

    Bins are aligned to multiples of ``bin_ms``; Mo is the centre of the fullest bin (the
    shortest one on ties). ``None`` when all intervals are equal (MxDMn = 0).
    """
    nn = np.asarray(nn_ms, dtype=float)
    if nn.size < 2:
        return None
    mxdmn = (nn.max() - nn.min()) / 1000.0
    if mxdmn <= 0:
        return None
    bins = np.floor(nn / bin_ms).astype(np.int64)
    values, counts = np.unique(bins, return_counts=True)
    j = int(np.argmax(counts))
    mo = (values[j] + 0.5) * bin_ms / 1000.0
    amo = 100.0 * counts[j] / nn.size
    return float(amo / (2.0 * mo * mxdmn))


def z_score(value: float | None, norm: Norm) -> float | None:
    return None if value is None else (value - norm.mean) / norm.sd


def pns_index(mean_rr: float | None, rmssd: float | None, sd1: float | None) -> float | None:
    """Kubios-style PNS index: mean z-score of mean RR, RMSSD and SD1 against ``NORMS``."""
    zs = [z_score(mean_rr, NORMS["mean_rr"]), z_score(rmssd, NORMS["rmssd"]), z_score(sd1, NORMS["sd1"])]
    return None if any(z is None for z in zs) else float(np.mean(zs))


def sns_index(mean_hr: float | None, sqrt_si: float | None, sd2: float | None) -> float | None:
    """Kubios-style SNS index: mean z-score of mean HR, sqrt(SI) and SD2 against ``NORMS``.

    SD2 enters with its sign flipped: lower SD2 means more sympathetic dominance (as Kubios).
    """
    zs = [z_score(mean_hr, NORMS["mean_hr"]), z_score(sqrt_si, NORMS["sqrt_si"]),
          z_score(sd2, NORMS["sd2"])]
    if any(z is None for z in zs):
        return None
    return float(np.mean([zs[0], zs[1], -zs[2]]))


def stress_indices(nn_ms: np.ndarray, metrics: HRVMetrics) -> StressIndices:
    """SI, sqrt(SI), PNS and SNS indices for one window (``metrics`` from :func:`compute_hrv`)."""
    si = baevsky_stress_index(nn_ms)
    sqrt_si = math.sqrt(si) if si is not None else None
    return StressIndices(
        stress_index=si,
        sqrt_stress_index=sqrt_si,
        pns_index=pns_index(metrics.mean_rr, metrics.rmssd, metrics.sd1),
        sns_index=sns_index(metrics.mean_hr, sqrt_si, metrics.sd2),
    )
