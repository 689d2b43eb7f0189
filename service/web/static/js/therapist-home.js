// The therapist's clients: only persons with a live grant, and of each only what its scopes cover.
import { api, addDays, badge, done, el, failed, localDate, localTime, replace, status, table, todayIn } from "./app.js";
import { STATUS_WORDS } from "./summaries.js";
import { headline } from "./headline.js";

async function clientRow(grant) {
  const id = grant.person_id;
  const can = (scope) => grant.scopes.includes(scope);
  const person = await api(`/v1/persons/${id}`);
  const today = todayIn(person.tz);
  const cells = { recovery: "–", session: "–", headline: "–", imported: "–" };
  const jobs = [];
  if (can("read:evidence")) {
    jobs.push(api(`/v1/persons/${id}/recovery?from=${addDays(today, -6)}&to=${today}`).then((r) => {
      const last = r.days[r.days.length - 1];
      if (last) cells.recovery = badge(STATUS_WORDS[last.status] || last.status, last.status);
    }));
  }
  if (can("read:sessions")) {
    jobs.push(api(`/v1/persons/${id}/sessions?from=${addDays(today, -365)}T00:00:00&limit=500`).then(async (p) => {
      const last = p.items[p.items.length - 1];
      if (!last) return;
      cells.session = el("a", { href: `/sessions/${last.id}` }, localDate(last.start, person.tz));
      if (can("read:evidence")) cells.headline = headline(await api(`/v1/sessions/${last.id}/response`));
    }));
  }
  if (can("read:observations")) {
    jobs.push(api(`/v1/persons/${id}/imports?limit=1`).then((p) => {
      if (p.items[0]) cells.imported = localTime(p.items[0].finished_at || p.items[0].created_at, person.tz);
    }));
  }
  await Promise.all(jobs);
  return [el("a", { href: `/persons/${id}` }, person.name), cells.recovery, cells.session, cells.headline, cells.imported];
}

async function load() {
  const grants = (await api("/v1/grants")).items;
  const live = grants.filter((g) => g.status === "active" && g.live);
  const pending = grants.filter((g) => g.status === "pending");
  if (!live.length) {
    replace("clients", el("p", { class: "muted" }, "No client has given you access yet."));
  } else {
    const rows = await Promise.all(live.map((g) => clientRow(g).catch((e) => [g.person_id, `unavailable (${e.message})`, "", "", ""])));
    replace("clients", el("div", { class: "table-wrap" }, table(
      ["Client", "Recovery today", "Last session", "Its response", "Last import"], rows)));
  }
  replace("pending", pending.length
    ? el("ul", {}, pending.map((g) => el("li", {}, `Asked ${localDate(g.created_at)} for person `, el("code", {}, g.person_id), ": waiting for their approval")))
    : el("p", { class: "muted" }, "None."));
}

document.getElementById("request-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const personId = document.getElementById("request-person").value.trim();
  try {
    await api("/v1/access-requests", { method: "POST",
      json: { person_id: personId, scopes: ["read:evidence", "read:sessions", "read:observations"] } });
    status("Request sent: the client approves it on their consent page.");
    event.target.reset();
    await load();
  } catch (error) {
    status(`The request was not sent: ${error.message}`);
  }
});

try {
  await load();
} catch (error) {
  failed("clients", error);
}
done("home");
