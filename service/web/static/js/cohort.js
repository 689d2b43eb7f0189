// A therapist's consenting clients pooled, per claim and measure.
import { METRIC_LABELS, api, badge, done, el, failed, num, replace, words } from "./app.js";
import { scale } from "./scale.js";

try {
  const cohort = await api("/v1/cohorts/evidence");
  replace("overview", el("section", { class: "card summary" },
    el("p", {}, `${cohort.n_persons} consenting client${cohort.n_persons === 1 ? "" : "s"} pooled.`),
    cohort.caveats.length ? el("ul", {}, cohort.caveats.map((t) => el("li", {}, t))) : null));
  replace("claims", cohort.endpoints.map((e) => el("section", { class: "card claim" },
    el("header", {}, el("h2", {}, `${words(e.claim)}: ${METRIC_LABELS[e.metric] || words(e.metric)}`), badge(e.verdict, e.verdict),
       el("span", { class: "muted" }, `${e.k_persons} clients · ${e.n_sessions} sessions`)),
    el("p", {}, e.summary),
    e.estimate !== null ? scale({ estimate: e.estimate, low: e.ci_low, high: e.ci_high, swc: e.swc, digits: 2 }) : null,
    e.i2 !== null ? el("p", { class: "help" }, `Between-client differences: I² ${num(e.i2, 0)} %`) : null,
    e.caveats.length ? el("ul", {}, e.caveats.map((t) => el("li", {}, t))) : null)));
} catch (error) {
  failed("overview", error);
}
done("cohort");
