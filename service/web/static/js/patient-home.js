import { api, addDays, body, done, el, failed, fill, replace, todayIn } from "./app.js";
import { importSummary, recoveryToday } from "./summaries.js";
import { loadSessions, sessionsTable } from "./sessions.js";

const personId = body.personId;
const person = await api(`/v1/persons/${personId}`);
fill("name", person.name);
const tz = person.tz;

const today = todayIn(tz);
const jobs = [
  api(`/v1/persons/${personId}/recovery?from=${addDays(today, -6)}&to=${today}`)
    .then((r) => recoveryToday("today", r.days)).catch((e) => failed("today", e)),
  api(`/v1/persons/${personId}/imports?limit=1`)
    .then((p) => importSummary("latest-import", p.items[0], tz)).catch((e) => failed("latest-import", e)),
  api(`/v1/persons/${personId}/grants?status=pending`).then((g) => {
    if (!g.items.length) return;
    replace("pending-requests", el("p", { class: "notice" },
      `${g.items.length} consent request${g.items.length > 1 ? "s" : ""} waiting: `,
      el("a", { href: "/consent" }, "review")));
  }),
  loadSessions(personId, tz).then((items) => sessionsTable("sessions", items, tz)).catch((e) => failed("sessions", e)),
];
await Promise.allSettled(jobs);
done("home");
