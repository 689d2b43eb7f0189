// Upload an export (drop or choose), then follow its background import to the end.
import { api, csrfToken, done, el, failed, localTime, num, replace, table, words } from "./app.js";

const personId = document.getElementById("upload-page").dataset.personId;
const dropzone = document.getElementById("dropzone");
const input = document.getElementById("file");
const bar = document.getElementById("progress");
const label = document.getElementById("progress-label");
const POLL_MS = 700;

function send(file) {
  // XMLHttpRequest, not fetch: only it reports upload progress.
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/v1/persons/${personId}/imports?filename=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      bar.value = (50 * e.loaded) / e.total;  // the first half of the bar is the upload
      label.textContent = `Uploading ${file.name}: ${Math.round((100 * e.loaded) / e.total)} %`;
    };
    xhr.onload = () => {
      let payload = null;
      try { payload = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 202) resolve(payload);
      else reject(new Error((payload && (payload.detail || payload.title)) || `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error("the connection failed"));
    xhr.send(file);
  });
}

function outcome(record) {
  const reasons = Object.entries(record.rejected_reasons || {});
  const skipped = Object.entries(record.skipped || {});
  return [
    el("h2", {}, record.status === "completed" ? "Import finished" : "Import failed"),
    record.error ? el("p", { class: "error" }, record.error) : null,
    el("ul", { class: "counts", "data-import-id": record.id, "data-status": record.status },
      el("li", {}, el("strong", {}, num(record.read, 0)), "records read"),
      el("li", {}, el("strong", {}, num(record.inserted, 0)), "new samples"),
      el("li", {}, el("strong", {}, num(record.duplicates, 0)), "already known"),
      el("li", {}, el("strong", {}, num(record.rejected, 0)), "rejected")),
    record.connector ? el("p", { class: "help" }, `Read as ${words(record.connector)}.`) : null,
    record.same_file_as ? el("p", { class: "notice" }, `The same file was imported before (import ${record.same_file_as}).`) : null,
    reasons.length ? el("div", {}, el("h3", {}, "Rejected, by reason"),
      el("ul", {}, reasons.map(([reason, n]) => el("li", {}, `${words(reason)}: ${num(n, 0)}`)))) : null,
    skipped.length ? el("div", {}, el("h3", {}, "Skipped"),
      el("ul", {}, skipped.map(([reason, n]) => el("li", {}, `${words(reason)}: ${num(n, 0)}`)))) : null,
  ];
}

async function follow(record) {
  while (record.status === "queued" || record.status === "running") {
    const share = record.size_bytes ? Math.min(1, record.bytes_read / record.size_bytes) : 0;
    bar.value = 50 + 50 * share;
    label.textContent = record.status === "queued" ? "Waiting for an import worker…"
      : `Importing: ${num(record.read, 0)} records read`;
    await new Promise((r) => setTimeout(r, POLL_MS));
    record = await api(`/v1/imports/${record.id}`);
  }
  bar.value = 100;
  label.textContent = record.status === "completed" ? "Done." : "The import failed.";
  replace("result", outcome(record));
  await listImports();
}

async function start(file) {
  if (!file) return;
  document.getElementById("progress-block").hidden = false;
  replace("result");
  bar.value = 0;
  try {
    await follow(await send(file));
  } catch (error) {
    label.textContent = "The upload failed.";
    replace("result", el("p", { class: "error", role: "alert" }, error.message));
  }
  done("upload-finished");
}

async function listImports() {
  const page = await api(`/v1/persons/${personId}/imports?limit=20`);
  if (!page.items.length) return replace("imports", el("p", { class: "muted" }, "None yet."));
  replace("imports", table(["File", "When", "Status", "New", "Known", "Rejected"],
    page.items.map((i) => [i.file_name, localTime(i.created_at), i.status, num(i.inserted, 0), num(i.duplicates, 0), num(i.rejected, 0)]),
    [3, 4, 5]));
}

input.addEventListener("change", () => start(input.files[0]));
for (const type of ["dragenter", "dragover"]) {
  dropzone.addEventListener(type, (e) => { e.preventDefault(); dropzone.classList.add("over"); });
}
for (const type of ["dragleave", "drop"]) {
  dropzone.addEventListener(type, (e) => { e.preventDefault(); dropzone.classList.remove("over"); });
}
dropzone.addEventListener("drop", (e) => start(e.dataTransfer.files[0]));

await listImports().catch((e) => failed("imports", e));
done("upload");
