// The list of a person's sessions, newest first, linking to each session page.
import { api, el, localTime, num, replace, table, words } from "./app.js";

export async function loadSessions(personId, tz, limit = 500) {
  const page = await api(`/v1/persons/${personId}/sessions?limit=${limit}`);
  return page.items.slice().reverse();
}

export function sessionsTable(target, items, tz) {
  if (!items.length) return replace(target, el("p", { class: "muted" }, "No sessions logged yet."));
  return replace(target, el("div", { class: "table-wrap" }, table(
    ["When", "Kind", "Pressure", "Length", ""],
    items.map((s) => [
      localTime(s.start_local || s.start, tz),
      words(s.modality),
      words(s.pressure) || "–",
      `${num(s.duration_minutes, 0)} min`,
      el("a", { href: `/sessions/${s.id}`, "aria-label": `Response to the session of ${localTime(s.start_local || s.start, tz)}` }, "Response"),
    ]), [3])));
}
