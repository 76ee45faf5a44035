// The console's behaviour, loaded as a module from the gateway (the pages' Content-Security-
// Policy runs no inline script). Every page works without it; it adds the reader's time zone,
// the inbox's live updates and the export page's progress.

// dateStyle/timeStyle cannot be combined with timeZoneName, so the fields are named.
const LOCAL = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  timeZoneName: "short",
});

// Times arrive as UTC text; show them in the reader's zone and keep UTC on hover (title).
export function localiseTimes(root = document) {
  for (const node of root.querySelectorAll("time[datetime]")) {
    const moment = new Date(node.getAttribute("datetime"));
    if (node.getAttribute("datetime") && !Number.isNaN(moment.getTime())) {
      node.textContent = LOCAL.format(moment);
    }
  }
}

// The inbox listens to the server's events and fetches its rows again on any change: the
// server renders them, so what a person may see is decided in one place.
function followInbox() {
  const status = document.querySelector("[data-live]");
  const rows = document.querySelector("[data-refresh]");
  if (!status || !rows || !("EventSource" in window)) return;
  const source = new EventSource(status.dataset.live);
  let pending = null;
  const refresh = () => {
    pending ??= fetch(rows.dataset.refresh, { credentials: "same-origin" })
      .then((reply) => (reply.ok ? reply.text() : Promise.reject(new Error(reply.statusText))))
      .then((html) => {
        rows.innerHTML = html;
        localiseTimes(rows);
        status.textContent = `Updated ${LOCAL.format(new Date())}.`;
      })
      .catch(() => {
        status.textContent = "Live updates paused: reload the page.";
      })
      .finally(() => {
        pending = null;
      });
  };
  source.addEventListener("action", refresh);
  source.addEventListener("resync", refresh);
  source.addEventListener("open", () => status.setAttribute("data-connected", "1"));
}

// An export being made: look again every few seconds until it is done.
function followExport() {
  const node = document.querySelector("[data-reload-every]");
  if (node) setTimeout(() => window.location.reload(), Number(node.dataset.reloadEvery) * 1000);
}

localiseTimes();
followInbox();
followExport();
