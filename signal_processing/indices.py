"""Stress and autonomic indices: Baevsky's stress index and Kubios-style PNS/SNS indices.

Baevsky stress index
    SI = AMo / (2 * Mo * MxDMn) over a histogram of NN intervals with 50 ms bins
    (Baevsky & Chernikova 2017; the 50 ms bin width is the one Kubios documents).
    Mo = centre of the modal bin (s), AMo = share of intervals in the modal bin (%),
    MxDMn = max NN - min NN (s). Kubios reports the square root of SI, to make it closer to
    normally distributed; both are returned.

Kubios-style PNS and SNS indices (population-referenced z-scores, not diagnostic)
    PNS = mean of z(mean RR), z(RMSSD); SNS = mean of z(mean HR), z(sqrt SI), -z(SD2),
    where z(x) = (x - norm mean) / norm SD against ``NORMS``. Kubios' PNS also averages a
    third input, Poincaré SD1; SD1 in ms is RMSSD / sqrt 2 (Brennan 2001), so its z-score
    against a norm derived from RMSSD's repeats z(RMSSD) and counted RMSSD twice. No
    published population norm for SD1 (in ms or normalised units) could be verified, so SD1
    is left out rather than given a derived norm. Kubios does not publish its normative
    values: these indices are not numerically comparable to Kubios' own PNS/SNS. They say
    where a window lies relative to a healthy-adult population, not whether anything is
    wrong (``StressIndices.population_referenced`` / ``diagnostic`` flags).

References
----------
* Baevsky, R. M., & Chernikova, A. G. (2017). Heart rate variability analysis: physiological
  foundations and main methods. Cardiometry, 10, 66-76.
* Brennan, M., Palaniswami, M., & Kamen, P. (2001). Do existing measures of Poincaré plot
  geometry reflect nonlinear features of heart rate variability? IEEE Trans Biomed Eng,
  48(11), 1342-1347.
* Nunan, D., Sandercock, G. R. H., & Brodie, D. A. (2010). A quantitative systematic review of
  normal values for short-term heart rate variability in healthy adults. Pacing and Clinical
  Electrophysiology, 33(11), 1407-1417.
* Kubios Oy, "HRV and ANS function" (kubios.com/hrv-ans-function): definition of the PNS
  index from mean RR, RMSSD and a Poincaré input.
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
    verified: str  # what was checked against the source, and what could not be


_NUNAN_TABLE_UNREACHABLE = (
    "not verified: the Nunan 2010 abstract gives no values and its table could not be read; "
    "the value is the one this project quoted before"
)


def _sd2_norm() -> Norm:
    # SD2^2 = 2 SDNN^2 - SD1^2 (Brennan 2001) with SD1 = RMSSD / sqrt 2; SD by first-order
    # error propagation treating SDNN and RMSSD as independent (an overestimate: they correlate).
    sdnn, sdnn_sd, rmssd, rmssd_sd = 50.0, 16.0, 42.0, 15.0
    sd2 = math.sqrt(2 * sdnn**2 - rmssd**2 / 2)
    d_sdnn, d_rmssd = 2 * sdnn / sd2, (rmssd / 2) / sd2
    return Norm(
        sd2,
        math.hypot(d_sdnn * sdnn_sd, d_rmssd * rmssd_sd),
        "derived from the Nunan 2010 SDNN and RMSSD norms: SD2 = sqrt(2 SDNN^2 - RMSSD^2 / 2)",
        "formula verified (Brennan 2001 relation, tested); inputs as verified for SDNN, RMSSD",
    )


#: Short-term (5 min, supine/seated rest) norms for healthy adults. Changing one changes
#: stored index values: bump ``hrv.ALGORITHM_VERSION``.
NORMS: dict[str, Norm] = {
    "mean_rr": Norm(926.0, 90.0, "Nunan et al. 2010, mean RR (ms)", _NUNAN_TABLE_UNREACHABLE),
    "sdnn": Norm(
        50.0,
        16.0,
        "Nunan et al. 2010, SDNN (ms)",
        "mean 50 ms verified in a secondary source citing Nunan 2010 (BioSource Software, "
        "'A Guide to Selecting HRV Norms'); SD 16 not verified",
    ),
    "rmssd": Norm(42.0, 15.0, "Nunan et al. 2010, RMSSD (ms)", _NUNAN_TABLE_UNREACHABLE),
    # 60000 / RR and first-order SD: 60000 * 90 / 926^2.
    "mean_hr": Norm(
        60000.0 / 926.0,
        60000.0 * 90.0 / 926.0**2,
        "derived from the Nunan 2010 mean RR norm: HR = 60000 / RR",
        "derivation only; the mean RR norm itself is not verified",
    ),
    "sd2": _sd2_norm(),
    # Baevsky's writings give a normal *range* for SI, not a mean and SD. Reading "50-150" as
    # mean +- 2 SD gave sqrt SI 10 +- 1.25, far narrower than SI varies between healthy
    # resting adults, and made sqrt SI dominate the SNS index (z -3.4 to -3.8 on ordinary
    # windows). Instead the norm is derived the same way for every input: 5-minute windows of
    # a simulated healthy population drawn from the Nunan mean RR and SDNN norms
    # (tests/signal_processing/test_indices.py, derive_sqrt_si_norm, 2000 people; median SI 80,
    # inside Baevsky's range).
    "sqrt_si": Norm(
        9.95,
        3.91,
        "derived by simulation from the Nunan 2010 mean RR and SDNN norms (50 ms bins)",
        "not verifiable: no published mean and SD of SI found; the derivation is ours",
    ),
}


@dataclass(frozen=True)
class StressIndices:
    stress_index: float | None = None  # Baevsky SI
    sqrt_stress_index: float | None = None  # as Kubios reports "Stress index"
    pns_index: float | None = None  # Kubios-style, z units against NORMS
    sns_index: float | None = None  # Kubios-style, z units against NORMS
    label: str = "Kubios-style PNS/SNS on published norms (Nunan 2010), not Kubios' own values"
    #: PNS/SNS compare the window with a healthy-adult population, not with this person.
    population_referenced: bool = True
    #: They are not a diagnosis: nothing here says a value is abnormal.
    diagnostic: bool = False


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


def pns_index(mean_rr: float | None, rmssd: float | None) -> float | None:
    """Kubios-style PNS index: mean z-score of mean RR and RMSSD against ``NORMS``.

    SD1 is not an input: in ms it is RMSSD / sqrt 2, so it would count RMSSD twice.
    """
    z_rr, z_rmssd = z_score(mean_rr, NORMS["mean_rr"]), z_score(rmssd, NORMS["rmssd"])
    if z_rr is None or z_rmssd is None:
        return None
    return float(np.mean([z_rr, z_rmssd]))


def sns_index(mean_hr: float | None, sqrt_si: float | None, sd2: float | None) -> float | None:
    """Kubios-style SNS index: mean z-score of mean HR, sqrt(SI) and SD2 against ``NORMS``.

    SD2 enters with its sign flipped: lower SD2 means more sympathetic dominance (as Kubios).
    """
    z_hr, z_si = z_score(mean_hr, NORMS["mean_hr"]), z_score(sqrt_si, NORMS["sqrt_si"])
    z_sd2 = z_score(sd2, NORMS["sd2"])
    if z_hr is None or z_si is None or z_sd2 is None:
        return None
    return float(np.mean([z_hr, z_si, -z_sd2]))


def stress_indices(nn_ms: np.ndarray, metrics: HRVMetrics) -> StressIndices:
    """SI, sqrt(SI), PNS and SNS indices for one window (``metrics`` from :func:`compute_hrv`)."""
    si = baevsky_stress_index(nn_ms)
    sqrt_si = math.sqrt(si) if si is not None else None
    return StressIndices(
        stress_index=si,
        sqrt_stress_index=sqrt_si,
        pns_index=pns_index(metrics.mean_rr, metrics.rmssd),
        sns_index=sns_index(metrics.mean_hr, sqrt_si, metrics.sd2),
    )
