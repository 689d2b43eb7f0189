// The session page: windows on the heart-rate series, the response table, the night and mornings after.
import { api, apiNdjson, ApiError, scopesFor, DATA_KINDS, METRIC_LABELS, done, el, failed, fill, localTime, num,
         replace, signed, table, unitOf, words } from "./app.js";
import { WINDOW_FILLS, seconds, timeChart } from "./charts.js";
import { headline } from "./headline.js";

const sessionId = document.getElementById("session-page").dataset.sessionId;

function digits(name) {
  return name.includes("ln_rmssd") ? 2 : name === "sleep_efficiency" ? 0 : 1;
}

function windowSpan(w) {
  if (!w) return null;
  const start = w.start || (w.search && w.search.start);
  const end = w.end || (w.search && w.search.end);
  return start && end ? [start, end] : null;
}

async function drawChart(session, response, tz) {
  const spans = {};
  const windows = (response && response.windows) || {};
  for (const name of ["pre", "during", "post"]) spans[name] = windowSpan(windows[name]);
  spans.during = spans.during || [session.start, session.end];
  const from = new Date(Date.parse((spans.pre || [session.start])[0]) - 10 * 60e3);
  const to = new Date(Date.parse((spans.post || [null, session.end])[1]) + 10 * 60e3);
  const range = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
  const base = `/v1/persons/${session.person_id}/observations?format=ndjson&${range}`;
  let rows = await apiNdjson(`${base}&metric=rr_interval`);
  let label = "Heart rate from beat-to-beat intervals";
  let toBpm = (v) => 60000 / v;
  if (!rows.length) {
    rows = await apiNdjson(`${base}&metric=heart_rate`);
    label = "Heart rate";
    toBpm = (v) => v;
  }
  const target = document.getElementById("chart-session");
  if (!rows.length) {
    replace("chart-note", "No heart-rate data around this session.");
    target.hidden = true;
    return;
  }
  rows.sort((a, b) => (a.ts < b.ts ? -1 : 1));
  const xs = rows.map((r) => seconds(r.ts));
  const ys = rows.map((r) => toBpm(r.value));
  const fills = Object.entries(spans).filter(([, s]) => s)
    .map(([name, s]) => ({ from: seconds(s[0]), to: seconds(s[1]), fill: WINDOW_FILLS[name] }));
  timeChart(target, { xs, series: [{ label, values: ys, unit: "bpm", digits: 0 }], spans: fills, tz, yLabel: "bpm" });
  replace("chart-note", `${rows.length.toLocaleString()} samples from ${rows[0].source}.`);
}

function responseTables(response, tz) {
  const w = response.windows || {};
  const windowRows = ["pre", "during", "post"].map((name) => {
    const x = w[name] || {};
    const span = windowSpan(x);
    return [{ pre: "Before", during: "During", post: "After" }[name],
      span ? `${localTime(span[0], tz, false)}–${localTime(span[1], tz, false)}` : "–",
      DATA_KINDS[x.data_kind] || words(x.data_kind) || "–",
      x.status || (x.insufficient_reason ? words(x.insufficient_reason) : "–"),
      (x.source && x.source.name) || "–"];
  });
  const metricRows = Object.entries(response.metrics || {}).map(([name, m]) => {
    const unit = unitOf(name, m);
    const d = digits(name);
    return [METRIC_LABELS[name] || name, num(m.pre, d), num(m.post, d), signed(m.change, d),
      m.control_change === null ? "–" : signed(m.control_change, d),
      m.control_adjusted_change === null ? "–" : signed(m.control_adjusted_change, d),
      unit || "index", `${m.better} is better`, m.reason ? words(m.reason) : (m.control_adjusted ? `${m.n_controls} control days` : "")];
  });
  replace("response",
    table(["Window", "Local time", "Data", "Quality", "Device"], windowRows),
    el("h3", {}, "Change per measure"),
    table(["Measure", "Before", "After", "Change", "Usual change without a session", "Control-adjusted change", "Unit", "Direction", "Note"],
          metricRows, [1, 2, 3, 4, 5]));
}

function nightTables(response) {
  const parts = [];
  const night = response.night;
  if (night && night.metrics) {
    parts.push(el("p", {}, `The night after: ${night.from ? words(night.from) : "no sleep record"}.`));
    parts.push(table(["Measure", "That night", "Usual night (median)", "Difference", "Unit", "Note"],
      Object.entries(night.metrics).map(([name, m]) => [METRIC_LABELS[name] || name, num(m.value, digits(name)),
        num(m.control_median, digits(name)), signed(m.difference, digits(name)), unitOf(name, m), m.reason ? words(m.reason) : ""]),
      [1, 2, 3]));
  }
  const next = response.next_days;
  if (next) {
    parts.push(el("p", {}, `Morning lnRMSSD against the 7 days up to the session (baseline ${num(next.baseline_ln_rmssd_7d, 2)} ln(ms), ${next.baseline_days} days):`));
    parts.push(table(["Date", "lnRMSSD (ln(ms))", "Against baseline", "Resting heart rate (bpm)", "From"],
      (next.days || []).map((d) => [d.date, num(d.ln_rmssd, 2), signed(d.vs_baseline, 2), num(d.resting_hr, 0), DATA_KINDS[d.measured_from] || words(d.measured_from) || "–"]),
      [1, 2, 3]));
  }
  replace("night", parts.length ? parts : el("p", { class: "muted" }, "Nothing measured after this session yet."));
}

async function ratings(session) {
  const day = 24 * 3600e3;
  const range = `from=${encodeURIComponent(new Date(Date.parse(session.start) - day).toISOString())}` +
    `&to=${encodeURIComponent(new Date(Date.parse(session.end) + day).toISOString())}`;
  const { items } = await api(`/v1/persons/${session.person_id}/self-reports?${range}&limit=500`);
  const mine = items.filter((r) => r.session_id === session.id);
  if (!mine.length) return replace("ratings", el("p", { class: "muted" }, "No ratings logged with this session."));
  const kinds = [...new Set(mine.map((r) => r.kind))];
  const value = (kind, phase) => {
    const r = mine.find((x) => x.kind === kind && x.phase === phase);
    return r ? num(r.value, 0) : "–";
  };
  return replace("ratings", table(["Rating", "Before", "After"],
    kinds.map((k) => [words(k), value(k, "before"), value(k, "after")]), [1, 2]));
}

const session = await api(`/v1/sessions/${sessionId}`).catch((e) => { failed("summary", e); return null; });
if (session) {
  const tz = session.tz;
  fill("when", localTime(session.start_local || session.start, tz));
  fill("details", `${words(session.modality)}${session.pressure ? `, ${session.pressure} pressure` : ""}, ` +
    `${num(session.duration_minutes, 0)} min${session.body_areas.length ? ` · ${session.body_areas.map(words).join(", ")}` : ""} · times in ${tz}`);
  const scopes = await scopesFor(session.person_id);
  await ratings(session).catch((e) => failed("ratings", e));  // read:sessions, as the session itself
  let response = null;
  try {
    if (!scopes.has("read:evidence")) throw new ApiError(403, { detail: "no consent to see responses" });
    response = await api(`/v1/sessions/${sessionId}/response`);
    replace("summary", el("p", {}, headline(response)));
    responseTables(response, tz);
    nightTables(response);
  } catch (error) {
    for (const id of ["summary", "response", "night"]) failed(id, error);
    if (!(error instanceof ApiError)) throw error;
  }
  try {
    if (!scopes.has("read:observations")) throw new ApiError(403, { detail: "no consent to see heart-rate data" });
    await drawChart(session, response, tz);
  } catch (error) {
    failed("chart-note", error);
  }
}
done("session");
