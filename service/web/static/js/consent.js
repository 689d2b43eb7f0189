// The patient's consent: every grant and request, approve, revoke, grant a therapist.
import { api, badge, body, done, el, failed, localDate, replace, status, table, words } from "./app.js";

const personId = body.personId;
const SCOPE_WORDS = {
  "read:evidence": "see responses, recovery and evidence", "read:sessions": "see sessions and ratings",
  "read:observations": "see heart-rate data and imports", "write:sessions": "log sessions",
  "write:imports": "upload exports",
};

async function act(path, method, message) {
  try {
    await api(path, { method });
    status(message);
  } catch (error) {
    status(`That did not work: ${error.message}`);
  }
  await load();
}

async function load() {
  const { items } = await api(`/v1/persons/${personId}/grants`);
  if (!items.length) return replace("grants", el("p", { class: "muted" }, "Nobody else has access."));
  replace("grants", table(["Who", "May", "Status", "Since", ""], items.map((g) => {
    const base = `/v1/persons/${personId}/grants/${g.id}`;
    const actions = [];
    if (g.status === "pending") {
      actions.push(el("button", { type: "button", onclick: () => act(`${base}/approve`, "POST", `Approved ${g.grantee_name}.`) }, `Approve ${g.grantee_name}`));
    }
    if (g.status === "pending" || g.status === "active") {
      actions.push(" ", el("button", { type: "button", class: "secondary",
        onclick: () => act(base, "DELETE", `${g.status === "pending" ? "Declined" : "Revoked"} ${g.grantee_name}.`) },
        `${g.status === "pending" ? "Decline" : "Revoke"} ${g.grantee_name}`));
    }
    return [`${g.grantee_name} (${g.grantee_role})`, g.scopes.map((s) => SCOPE_WORDS[s] || words(s)).join("; "),
      badge(g.live ? "active" : g.status, g.live ? "within" : g.status === "pending" ? "above" : "not-supported"),
      localDate(g.approved_at || g.created_at), el("span", {}, actions)];
  })));
}

document.getElementById("grant-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const errorBox = document.getElementById("grant-error");
  const scopes = [...event.target.querySelectorAll("input[name=scopes]:checked")].map((i) => i.value);
  try {
    await api(`/v1/persons/${personId}/grants`, { method: "POST",
      json: { grantee_id: document.getElementById("grantee").value.trim(), scopes } });
    errorBox.hidden = true;
    event.target.reset();
    status("Access granted.");
    await load();
  } catch (error) {
    errorBox.textContent = `Not granted: ${error.message}`;
    errorBox.hidden = false;
  }
});

await load().catch((e) => failed("grants", e));
done("consent");
