// Short summaries shared by the patient and therapist homes.
import { badge, el, localTime, num, replace, DATA_KINDS } from "./app.js";

export const STATUS_WORDS = {
  below: "below the normal range", within: "within the normal range",
  above: "above the normal range", insufficient_data: "not enough data yet",
};

export function recoveryToday(target, days) {
  // Today when it has a status, else the latest day that has one (named as such).
  const last = [...days].reverse().find((d) => d.status !== "insufficient_data") || days[days.length - 1];
  if (!last) return replace(target, el("p", { class: "muted" }, "No recovery data yet."));
  const isLatest = last === days[days.length - 1];
  const ln = last.ln_rmssd || {};
  const rhr = last.resting_hr || {};
  return replace(target,
    el("p", {}, badge(STATUS_WORDS[last.status] || last.status, last.status)),
    el("p", {}, `lnRMSSD ${num(ln.value, 2)} ln(ms)`,
       ln.normal_low != null ? ` (normal ${num(ln.normal_low, 2)}–${num(ln.normal_high, 2)})` : "",
       ` · resting heart rate ${num(rhr.value, 0)} bpm`),
    el("p", { class: "help" }, `${isLatest ? "For" : "Latest measured day:"} ${last.date}, from `,
       DATA_KINDS[last.measured_from] || last.measured_from || "no data",
       last.source ? ` (${last.source.name})` : "", ".", ln.reason ? ` Why: ${ln.reason}.` : ""));
}

export function importSummary(target, item, tzName) {
  if (!item) return replace(target, el("p", { class: "muted" }, "Nothing imported yet."));
  return replace(target,
    el("p", {}, el("strong", {}, item.file_name), ` · ${item.status}`),
    el("p", { class: "help" }, `${localTime(item.finished_at || item.created_at, tzName)} · `,
       `${num(item.inserted, 0)} new samples, ${num(item.duplicates, 0)} already known, ${num(item.rejected, 0)} rejected`));
}

