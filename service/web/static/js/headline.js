// One sentence about a session's response: the API's own summary when it has one,
// otherwise the control-adjusted change of the first metric that has a number.
import { METRIC_LABELS, num, signed, unitOf } from "./app.js";

const ORDER = ["mean_hr", "ln_rmssd", "rmssd", "stress_index"];

export function headline(response) {
  if (!response) return "No response computed.";
  if (response.summary) return response.summary;
  for (const name of ORDER) {
    const m = response.metrics && response.metrics[name];
    if (!m || m.delta === null || m.delta === undefined) continue;
    const unit = unitOf(name, m);
    const kind = m.control_adjusted ? "against days without a session" : "after minus before";
    const verdict = m.improved === true ? "an improvement" : m.improved === false ? "not an improvement" : "";
    return `${METRIC_LABELS[name] || name}: ${signed(m.delta, name === "ln_rmssd" ? 2 : 1)} ${unit} (${kind})` +
      (verdict ? `, ${verdict}.` : ".");
  }
  return "Not enough data around this session for a response.";
}

export { num };
