// Short summaries shared by the patient and therapist homes.
import { badge, el, localTime, num, replace, DATA_KINDS } from "./app.js";

export const STATUS_WORDS = {
  below: "below the normal range", within: "within the normal range",
  above: "above the normal range", insufficient_data: "not enough data yet",
};

export function recoveryToday(target, days) {
  const last = days.length ? days[days.length - 1] : null;
  if (!last) return replace(target, el("p", { class: "muted" }, "No recovery data yet."));
  const ln = last.ln_rmssd || {};
  const rhr = last.resting_hr || {};
  return replace(target,
    el("p", {}, badge(STATUS_WORDS[last.status] || last.status, last.status)),
    el("p", {}, `lnRMSSD ${num(ln.value, 2)} ln(ms)`,
       ln.normal_low != null ? ` (normal ${num(ln.normal_low, 2)}–${num(ln.normal_high, 2)})` : "",
       ` · resting heart rate ${num(rhr.value, 0)} bpm`),
    el("p", { class: "help" }, `For ${last.date}, from ${DATA_KINDS[last.measured_from] || last.measured_from || "no data"}`,
       last.source ? ` (${last.source.name})` : "", ln.reason ? `. ${ln.reason}` : ""));
}

export function importSummary(target, item, tzName) {
  if (!item) return replace(target, el("p", { class: "muted" }, "Nothing imported yet."));
  return replace(target,
    el("p", {}, el("strong", {}, item.file_name), ` · ${item.status}`),
    el("p", { class: "help" }, `${localTime(item.finished_at || item.created_at, tzName)} · `,
       `${num(item.inserted, 0)} new samples, ${num(item.duplicates, 0)} already known, ${num(item.rejected, 0)} rejected`));
}

