// A person's trends over a selectable range: recovery against the normal band, resting heart
// rate, every heart-rate sample, device scores and sessions (as markers and a list).
import { api, apiNdjson, addDays, body, done, el, failed, fill, localMidnight, num, replace, scopesFor, table, todayIn, words,
         DATA_KINDS } from "./app.js";
import { seconds, timeChart } from "./charts.js";
import { sessionsTable } from "./sessions.js";

const page = document.getElementById("person-page");
const personId = page.dataset.personId;
const person = await api(`/v1/persons/${personId}`);
const tz = person.tz;
const scopes = await scopesFor(personId);
fill("name", person.name);
fill("subtitle", `Times in ${tz}. Each figure names the kind of data behind it.`);
// A therapist whose grant allows writing gets the same forms as the patient.
if (body.role !== "patient") {
  replace("write-links",
    scopes.has("write:sessions") ? el("a", { class: "button secondary", href: `/persons/${personId}/sessions/new` }, "Log a session") : null,
    scopes.has("write:imports") ? el("a", { class: "button secondary", href: `/persons/${personId}/upload` }, "Upload") : null);
}

const noon = (date) => Date.parse(localMidnight(date, tz)) / 1000 + 12 * 3600;

function refused(id, what) {
  replace(id, el("p", { class: "muted" }, `No consent covers ${what}.`));
}

// The x range of every chart: the selected local days, whole.
const span = (from, to) => [Date.parse(localMidnight(from, tz)) / 1000, Date.parse(localMidnight(addDays(to, 1), tz)) / 1000];

async function recovery(from, to, markers) {
  if (!scopes.has("read:evidence")) {
    refused("chart-recovery", "recovery"); refused("chart-rhr", "resting heart rate"); refused("vendor", "device scores");
    return;
  }
  const { days } = await api(`/v1/persons/${personId}/recovery?from=${from}&to=${to}`);
  const xs = days.map((d) => noon(d.date));
  const kinds = new Set(days.map((d) => d.measured_from).filter(Boolean));
  const measured = days.filter((d) => d.ln_rmssd.value !== null).length;
  // Why the latest day has no number, in the API's words, for charts with nothing to draw.
  const why = (measure) => {
    const reason = days.length ? days[days.length - 1][measure].reason : null;
    return `No day in this range has enough data${reason ? ` (latest day: ${reason})` : ""}.`;
  };
  if (measured) {
    timeChart(document.getElementById("chart-recovery"), {
      xs, tz, yLabel: "ln(ms)", markers, range: span(from, to),
      series: [{ label: "lnRMSSD", values: days.map((d) => d.ln_rmssd.value), unit: "ln(ms)", digits: 2, points: true }],
      band: { low: days.map((d) => d.ln_rmssd.normal_low), high: days.map((d) => d.ln_rmssd.normal_high) },
    });
    replace("recovery-note", `${measured} of ${days.length} days measured, from ${[...kinds].map((k) => DATA_KINDS[k] || k).join(" and ")}.`);
  } else {
    replace("chart-recovery");
    replace("recovery-note", why("ln_rmssd"));
  }
  if (days.some((d) => d.resting_hr.value !== null)) {
    timeChart(document.getElementById("chart-rhr"), {
      xs, tz, yLabel: "bpm", markers, range: span(from, to),
      series: [{ label: "Resting heart rate", values: days.map((d) => d.resting_hr.value), unit: "bpm", digits: 0, points: true, stroke: "#a4161a" }],
    });
  } else {
    replace("chart-rhr", el("p", { class: "muted" }, why("resting_hr")));
  }
  const vendorDays = days.filter((d) => Object.values(d.vendor || {}).some((v) => v !== null));
  if (!vendorDays.length) {
    replace("vendor", el("p", { class: "muted" }, "The device reported no scores of its own in this range."));
  } else {
    const names = [...new Set(vendorDays.flatMap((d) => Object.keys(d.vendor)))];
    replace("vendor", el("div", { class: "table-wrap" }, table(["Date", ...names.map(words)],
      vendorDays.slice(-14).reverse().map((d) => [d.date, ...names.map((n) => num(d.vendor[n], 0))]))));
  }
}

async function heartRate(from, to, markers) {
  if (!scopes.has("read:observations")) return refused("chart-hr", "heart-rate samples");
  const started = performance.now();
  const range = `from=${encodeURIComponent(localMidnight(from, tz))}&to=${encodeURIComponent(localMidnight(addDays(to, 1), tz))}`;
  const rows = await apiNdjson(`/v1/persons/${personId}/observations?format=ndjson&metric=heart_rate&${range}`);
  const fetchMs = performance.now() - started;
  const target = document.getElementById("chart-hr");
  if (!rows.length) return replace("hr-note", "No heart-rate samples in this range.");
  rows.sort((a, b) => (a.ts < b.ts ? -1 : 1));
  timeChart(target, {
    xs: rows.map((r) => seconds(r.ts)), tz, yLabel: "bpm", markers, range: span(from, to),
    series: [{ label: "Heart rate", values: rows.map((r) => r.value), unit: "bpm", digits: 0, width: 1 }],
  });
  target.dataset.fetchMs = fetchMs.toFixed(1);
  replace("hr-note", `${rows.length.toLocaleString()} samples from ${[...new Set(rows.map((r) => r.source))].join(", ")}.`);
}

async function load(days) {
  const to = todayIn(tz);
  const from = addDays(to, -(days - 1));
  delete document.body.dataset.loaded;
  let sessions = [];
  if (scopes.has("read:sessions")) {
    sessions = (await api(`/v1/persons/${personId}/sessions?from=${from}T00:00:00&to=${addDays(to, 1)}T00:00:00&limit=500`)).items;
    sessionsTable("sessions", sessions.slice().reverse(), tz);
  } else {
    refused("sessions", "sessions");
  }
  const markers = sessions.map((s) => seconds(s.start));
  await Promise.all([
    recovery(from, to, markers).catch((e) => failed("chart-recovery", e)),
    heartRate(from, to, markers).catch((e) => failed("chart-hr", e)),
  ]);
  done(`trends-${days}`);
}

for (const button of document.querySelectorAll("button.range")) {
  button.addEventListener("click", async () => {
    for (const other of document.querySelectorAll("button.range")) other.setAttribute("aria-pressed", String(other === button));
    await load(Number(button.dataset.days));
  });
}
await load(30);
