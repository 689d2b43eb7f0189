// Log a session (local times in the person's zone) and optional before/after ratings.
import { api, done, fill, status } from "./app.js";

const personId = document.getElementById("session-new-page").dataset.personId;
const person = await api(`/v1/persons/${personId}`);
fill("tz", person.tz);
const form = document.getElementById("session-form");
const errorBox = document.getElementById("form-error");

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function problemText(error) {
  const errors = error.problem && error.problem.errors;
  if (Array.isArray(errors) && errors.length) return errors.map((e) => e.msg || e.detail || JSON.stringify(e)).join("; ");
  return error.message;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showError("");
  const value = (id) => document.getElementById(id).value;
  if (!value("start") || !value("end")) return showError("Enter when the session started and ended.");
  const body = {
    start: value("start"), end: value("end"), modality: value("modality"),
    body_areas: [...form.querySelectorAll("input[name=body_areas]:checked")].map((i) => i.value),
  };
  if (value("pressure")) body.pressure = value("pressure");
  if (value("notes").trim()) body.notes = value("notes");
  let session;
  try {
    session = await api(`/v1/persons/${personId}/sessions`, { method: "POST", json: body });
  } catch (error) {
    return showError(`The session was not saved: ${problemText(error)}`);
  }
  const ratings = [["pain", "before", "pain-before", session.start], ["pain", "after", "pain-after", session.end],
                   ["stress", "before", "stress-before", session.start], ["stress", "after", "stress-after", session.end]];
  for (const [kind, phase, id, time] of ratings) {
    if (value(id) === "") continue;
    try {
      await api(`/v1/persons/${personId}/self-reports`, { method: "POST",
        json: { time, kind, phase, value: Number(value(id)), session_id: session.id } });
    } catch (error) {
      status(`The session was saved, but a rating was not: ${problemText(error)}`);
    }
  }
  window.location.assign(`/sessions/${session.id}`);
});
done("log");
