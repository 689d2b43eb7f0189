// Each claim massage makes, with this person's verdict, estimate on a scale, literature and caveats.
import { LOWER_IS_BETTER, METRIC_LABELS, api, badge, done, el, failed, fill, num, replace, unitOf, words } from "./app.js";
import { scale } from "./scale.js";

const personId = document.getElementById("evidence-page").dataset.personId;

// What would measure a claim nothing measures yet (shown when the API gives no wording).
const WOULD_MEASURE = {
  stress_hormones: "Salivary or serum cortisol taken before and after sessions (add lab results).",
  pain: "Pain ratings before and after sessions (log them with the session).",
  anxiety: "Anxiety ratings before and after sessions.",
  headache: "Headache ratings before and after sessions.",
  sleep: "A wearable that records sleep on the nights after sessions.",
  acute_stress: "Beat-to-beat intervals (a chest strap) before and after sessions.",
  recovery: "Overnight or morning heart-rate variability on the days after sessions.",
};

/** The direction of the claim's headline measure: its endpoint's, else the measure's usual one. */
function betterOf(c) {
  const endpoint = (c.endpoints || []).find((e) => e.metric === c.metric);
  return (endpoint && endpoint.better) || (LOWER_IS_BETTER.has(c.metric) ? "lower" : "higher");
}

export function claimCard(c) {
  const unit = unitOf(c.metric, c);
  const notMeasured = c.verdict === "not measured";
  const parts = [
    el("header", {}, el("h2", {}, c.label || words(c.claim)), badge(c.verdict, c.verdict),
       el("span", { class: "muted" }, `${c.n_sessions} session${c.n_sessions === 1 ? "" : "s"} · ${words(c.evidence_kind)} evidence`)),
    el("p", {}, c.summary),
  ];
  if (notMeasured || c.evidence_kind === "none") {
    parts.push(el("p", { class: "notice" }, "What would measure it: ",
      c.how_to_measure || c.would_measure || c.measured_by || WOULD_MEASURE[c.claim] || "data this service does not hold yet."));
  }
  if (c.estimate !== null && c.estimate !== undefined) {
    const digits = (c.metric || "").includes("ln_rmssd") ? 2 : 1;
    parts.push(el("p", {}, `${METRIC_LABELS[c.metric] || words(c.metric)}: ${num(c.estimate, digits)} ${unit}`,
      c.ci_low !== null ? ` (95% interval ${num(c.ci_low, digits)} to ${num(c.ci_high, digits)})` : "",
      c.swc ? `; smallest worthwhile change ${num(c.swc, digits)} ${unit}` : ""));
    parts.push(scale({ estimate: c.estimate, low: c.ci_low, high: c.ci_high, swc: c.swc, unit, digits,
                       better: betterOf(c) }));
  }
  if (c.caveats && c.caveats.length) {
    parts.push(el("h3", {}, "Caveats"), el("ul", {}, c.caveats.map((t) => el("li", {}, t))));
  }
  if (c.literature && c.literature.length) {
    parts.push(el("h3", {}, "What the literature says"),
      el("ul", {}, c.literature.map((l) => el("li", {}, l.finding, " ", el("cite", {}, l.citation)))));
  }
  return el("section", { class: "card claim", "data-claim": c.claim, "aria-label": c.label || words(c.claim) }, parts);
}

try {
  const [person, evidence] = await Promise.all([
    api(`/v1/persons/${personId}`), api(`/v1/persons/${personId}/evidence`)]);
  fill("name", person.name);
  replace("overview", el("section", { class: "card summary" },
    el("p", {}, evidence.summary),
    evidence.caveats.length ? el("ul", {}, evidence.caveats.map((t) => el("li", {}, t))) : null,
    el("p", { class: "help" }, `${evidence.n_sessions} sessions · method version ${evidence.algorithm_version}`)));
  replace("claims", evidence.claims.map(claimCard));
} catch (error) {
  failed("overview", error);
}
done("evidence");
