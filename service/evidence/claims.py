"""The claims massage makes, how (or whether) Vagus can measure each, and the verdict words.

One row per claim from the massage-therapy literature. ``measures`` lists the metrics
that measure it, headline first; a claim without measures cannot be measured from the
data Vagus collects and always gets the verdict ``not measured``. Related physiology
(``related``) is shown beside a claim, clearly labelled, and never decides its verdict:
an autonomic index is not a hormone measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from service.evidence import literature as lit
from service.evidence.literature import Literature
from signal_processing.evidence import Decision, Direction
from signal_processing.metrics import METRICS

EvidenceKind = Literal["wearable", "lab", "proxy", "self_report", "none"]
Verdict = Literal[
    "supported", "not supported", "contradicted", "inconclusive", "insufficient data", "not measured"
]
VERDICTS: tuple[Verdict, ...] = (
    "supported",
    "not supported",
    "contradicted",
    "inconclusive",
    "insufficient data",
    "not measured",
)
#: The verdict word for each numeric decision (``not measured`` has no decision: nothing was measured).
VERDICT_OF: dict[Decision, Verdict] = {
    "improvement": "supported",
    "worsening": "contradicted",
    "equivalent": "not supported",
    "unclear": "inconclusive",
    "too_few": "insufficient data",
}
#: How a claim's estimate was obtained: against rest-control sessions, against ordinary days.
Comparison = Literal["rest", "ordinary_day"]

#: The pre-registered primary endpoint: not part of the Holm family.
PRIMARY_ENDPOINT = ("acute_stress", "ln_rmssd")


@dataclass(frozen=True)
class Measure:
    """One metric that measures a claim; its direction of improvement is the metric's own
    (``signal_processing.metrics``, the one table of directions)."""

    metric: str
    evidence_kind: EvidenceKind
    label: str

    @property
    def better(self) -> Direction:
        return METRICS[self.metric].better


@dataclass(frozen=True)
class Claim:
    """A claim from the massage-therapy literature and how (or whether) these data measure it."""

    id: str
    label: str
    evidence_kind: EvidenceKind
    measures: tuple[Measure, ...]  # first = headline metric; rest = secondary endpoints
    literature: tuple[Literature, ...] = ()
    not_measurable: str | None = None  # why, when nothing Vagus collects measures it
    related: tuple[Measure, ...] = ()  # shown beside, labelled, never the verdict


def _none(cid: str, label: str, why: str, refs: tuple[Literature, ...] = ()) -> Claim:
    return Claim(cid, label, "none", (), refs, why)


CLAIMS: dict[str, Claim] = {
    c.id: c
    for c in (
        Claim(
            "acute_stress",
            "reduces acute stress",
            "wearable",
            (
                Measure("ln_rmssd", "wearable", "lnRMSSD"),
                Measure("mean_hr", "wearable", "mean heart rate"),
                Measure("hf", "wearable", "HF power"),
                Measure("stress_index", "wearable", "stress index"),
            ),
            (lit.MOYER_2004, lit.MEIER_2020, lit.DIEGO_FIELD_2009),
        ),
        Claim(
            "sleep",
            "improves sleep",
            "wearable",
            (
                Measure("night_ln_rmssd", "wearable", "next-night lnRMSSD"),
                Measure("night_hr", "wearable", "next-night resting heart rate"),
                Measure("sleep_duration_min", "wearable", "sleep duration"),
                Measure("sleep_efficiency", "wearable", "sleep efficiency"),
            ),
            (lit.SAMUEL_2021, lit.FANG_2023),
        ),
        Claim(
            "stress_hormones",
            "lowers stress hormones (cortisol)",
            "lab",
            (Measure("cortisol", "lab", "cortisol"),),
            (lit.MOYER_2011, lit.MOYER_2004),
            "Cortisol is a hormone: only a laboratory cortisol result (saliva or serum, taken before "
            "and after sessions) measures it. Heart rate and HRV do not.",
            (
                Measure("sns_index", "proxy", "SNS index (autonomic, not a hormone)"),
                Measure("stress_index", "proxy", "stress index (autonomic, not a hormone)"),
            ),
        ),
        Claim(
            "recovery",
            "faster recovery, overall wellness",
            "wearable",
            (
                Measure(
                    "morning_ln_rmssd", "wearable", "next-morning lnRMSSD vs the mornings after control days"
                ),
            ),
            (lit.DUPUY_2018, lit.PLEWS_2012),
        ),
        Claim(
            "pain",
            "relieves pain",
            "self_report",
            (Measure("pain", "self_report", "self-reported pain (0-10)"),),
            (lit.CRAWFORD_2016, lit.BERVOETS_2015, lit.MOYER_2004),
        ),
        Claim(
            "headache",
            "relieves headaches",
            "self_report",
            (Measure("headache_intensity", "self_report", "self-reported headache intensity (0-10)"),),
            (lit.QUINN_2002,),
        ),
        Claim(
            "anxiety",
            "reduces anxiety",
            "self_report",
            (Measure("anxiety", "self_report", "self-reported anxiety (0-10)"),),
            (lit.MOYER_2004,),
        ),
        _none(
            "immune",
            "strengthens the immune system",
            "Heart rate, HRV and sleep data cannot measure immune function: that needs blood tests "
            "(for example lymphocyte counts), which Vagus does not collect.",
            (lit.RAPAPORT_2010,),
        ),
        _none(
            "circulation",
            "improves circulation",
            "A wearable's heart rate and HRV do not measure blood flow or circulation; that needs "
            "vascular measurements such as Doppler ultrasound.",
        ),
        _none(
            "posture",
            "improves posture",
            "Heart rate and HRV data contain nothing about posture; it needs a physical assessment.",
        ),
        _none(
            "flexibility",
            "improves flexibility",
            "Heart rate and HRV data contain nothing about range of motion; it needs a physical "
            "assessment such as a sit-and-reach or goniometer measurement.",
        ),
    )
}


def measure(claim_id: str, metric: str) -> Measure:
    """The measure (or related measure) of ``metric`` for a claim; ``ValueError`` if none."""
    claim = CLAIMS[claim_id]
    for m in claim.measures + claim.related:
        if m.metric == metric:
            return m
    raise ValueError(f"claim {claim_id!r} is not measured by {metric!r}")
