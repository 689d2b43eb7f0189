// Shared by every page: calls to the JSON API with the sign-in cookie, formatting, DOM building.
// Pages build their DOM with el() (text nodes, never innerHTML), so API text cannot inject markup.

export const body = document.body.dataset;

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)vagus_csrf=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** fetch() against the API: same-origin cookie, CSRF header on writes, problems as ApiError. */
export async function api(path, { method = "GET", json, body: raw, headers = {}, raw: wantRaw } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (method !== "GET" && method !== "HEAD") init.headers["X-CSRF-Token"] = csrfToken();
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (raw !== undefined) {
    init.body = raw;
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    if (response.status === 401) window.location.assign("/signin");
    throw new ApiError(response.status, problem);
  }
  if (wantRaw) return response;
  return response.status === 204 ? null : response.json();
}

/** Every row of an NDJSON range, as parsed objects. */
export async function apiNdjson(path) {
  const response = await api(path, { headers: { Accept: "application/x-ndjson" }, raw: true });
  const text = await response.text();
  const rows = [];
  for (const line of text.split("\n")) if (line) rows.push(JSON.parse(line));
  return rows;
}

export { csrfToken };

/** el("p", {class: "x"}, "text", child) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function replace(target, ...children) {
  const node = typeof target === "string" ? document.getElementById(target) : target;
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

export function fill(name, text) {
  for (const node of document.querySelectorAll(`[data-fill="${name}"]`)) node.textContent = text;
}

export function status(message) {
  document.getElementById("page-status").textContent = message || "";
}

/** A message in place of a section's content when the API refuses or fails. */
export function failed(target, error) {
  const text = error instanceof ApiError && (error.status === 404 || error.status === 403)
    ? "Not available: there is no such record, or no consent covers it."
    : `Could not load this: ${error.message}`;
  return replace(target, el("p", { class: "error" }, text));
}

// Units where the API does not name one yet (signal_processing/response.py METRICS).
export const UNITS = {
  ln_rmssd: "ln(ms)", mean_hr: "bpm", rmssd: "ms", hf: "ms²", stress_index: "", sns_index: "",
  pns_index: "", night_ln_rmssd: "ln(ms)", night_hr: "bpm", sleep_duration_min: "min",
  sleep_efficiency: "%", resting_hr: "bpm", heart_rate: "bpm",
};
export const METRIC_LABELS = {
  ln_rmssd: "lnRMSSD (vagal tone)", mean_hr: "Mean heart rate", rmssd: "RMSSD", hf: "HF power",
  stress_index: "Stress index (Baevsky)", sns_index: "Sympathetic index", pns_index: "Parasympathetic index",
  night_ln_rmssd: "Night lnRMSSD", night_hr: "Night heart rate", sleep_duration_min: "Sleep duration",
  sleep_efficiency: "Sleep efficiency",
};
// Which way is better, for measures the API names without a direction.
export const LOWER_IS_BETTER = new Set(["mean_hr", "night_hr", "resting_hr", "stress_index", "sns_index",
                                        "heart_rate", "cortisol", "pain", "anxiety", "headache_intensity"]);
export const DATA_KINDS = {
  beat_to_beat: "beat-to-beat intervals", heart_rate_only: "heart rate only", device_hrv: "the device's HRV",
  none: "no data", rr: "beat-to-beat intervals", heart_rate: "heart rate", main_sleep: "main sleep",
  morning_window: "morning window",
};

export function unitOf(name, metric) {
  return (metric && metric.unit) ?? UNITS[name] ?? "";
}

/** A number with a fixed count of decimals (what the measure supports), or "–". */
export function num(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function signed(value, digits = 1) {
  if (value === null || value === undefined) return "–";
  return (value > 0 ? "+" : value < 0 ? "−" : "±") + num(Math.abs(value), digits);
}

/** A time in the person's zone, e.g. "Tue 4 May 2024, 10:00". */
export function localTime(iso, tz, withDate = true) {
  if (!iso) return "–";
  const options = withDate
    ? { weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" }
    : { hour: "2-digit", minute: "2-digit" };
  if (tz) options.timeZone = tz;
  return new Intl.DateTimeFormat(undefined, options).format(new Date(iso));
}

export function localDate(iso, tz) {
  if (!iso) return "–";
  const options = { day: "numeric", month: "short", year: "numeric" };
  if (tz) options.timeZone = tz;
  return new Intl.DateTimeFormat(undefined, options).format(new Date(iso));
}

/** YYYY-MM-DD of today in zone tz. */
export function todayIn(tz) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: tz || undefined }).format(new Date());
}

export function addDays(isoDate, days) {
  const d = new Date(isoDate + "T12:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function badge(text, kind) {
  return el("span", { class: `badge ${(kind || text).replace(/[\s_]+/g, "-")}` }, text);
}

export function words(id) {
  return String(id || "").replace(/_/g, " ");
}

export function table(headers, rows, numeric = []) {
  return el("table", {},
    el("thead", {}, el("tr", {}, headers.map((h, i) => el("th", { scope: "col", class: numeric.includes(i) ? "num" : null }, h)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c, i) => el("td", { class: numeric.includes(i) ? "num" : null }, c))))));
}

/** Resolves when the page marks itself loaded; tests and timings wait for it. */
export function done(name = "page") {
  document.body.dataset.loaded = name;
  window.dispatchEvent(new CustomEvent("vagus:loaded", { detail: name }));
}

for (const button of document.querySelectorAll("#print")) button.addEventListener("click", () => window.print());

const ALL_SCOPES = ["read:observations", "read:evidence", "read:sessions", "write:sessions", "write:imports"];

/**
 * The scopes the signed-in account holds on a person, so a page asks only for what the
 * API allows: a patient (on itself) and an admin hold all; a therapist or app those of its
 * live grant, read afresh; none for anyone else.
 */
export async function scopesFor(personId) {
  if (body.role === "admin" || (body.role === "patient" && body.personId === personId)) return new Set(ALL_SCOPES);
  if (body.role === "patient") return new Set();
  const grants = (await api("/v1/grants?status=active")).items;
  const grant = grants.find((g) => g.person_id === personId && g.live);
  return new Set(grant ? grant.scopes : []);
}

/** ISO 8601 for local midnight starting ``isoDate`` in zone ``tz`` (its UTC offset that day). */
export function localMidnight(isoDate, tz) {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: tz, timeZoneName: "longOffset" })
    .formatToParts(new Date(`${isoDate}T12:00:00Z`));
  const name = (parts.find((p) => p.type === "timeZoneName") || {}).value || "GMT";
  const offset = name === "GMT" ? "+00:00" : name.replace("GMT", "");
  return `${isoDate}T00:00:00${offset}`;
}
