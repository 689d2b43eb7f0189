// Download the export; delete the account after typing "delete".
import { api, body, done } from "./app.js";

const form = document.getElementById("delete-form");
const errorBox = document.getElementById("delete-error");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (document.getElementById("confirm").value.trim().toLowerCase() !== "delete") {
    errorBox.textContent = "Type delete to confirm.";
    errorBox.hidden = false;
    return;
  }
  try {
    await api(`/v1/persons/${body.personId}`, { method: "DELETE" });
  } catch (error) {
    errorBox.textContent = `Nothing was deleted: ${error.message}`;
    errorBox.hidden = false;
    return;
  }
  document.getElementById("signout-after").submit();  // the token died with the person
});
done("account");
