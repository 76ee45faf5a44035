// The console's "verify" for one audit record: fetches the record, the latest signed checkpoint,
// an inclusion proof against exactly that checkpoint's size and the log's keys, runs
// verifyRecord and lists its steps. Markup it reads:
//
//   <section data-verify data-api="../" data-seq="42" data-vkeys="(optional) name+hash+key ...">
//     <button type="button" data-verify-run>Verify</button>   (optional: else runs at load)
//     <ol data-verify-steps></ol>                              (optional: else appended)
//   </section>
//
// data-api is the base of the REST paths (/audit/...), relative to the page. data-vkeys pins
// the keys to trust; without it the keys the same server publishes are used, which proves the
// log consistent with itself, not with keys obtained elsewhere.
import { verifyRecord } from "./verify.js";

class FetchError extends Error {}

async function getJson(base, path, query = {}) {
  const url = new URL(path, base);
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  const response = await fetch(url, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    // The API's own error message (gateway.errors.ErrorBody), never a stack trace.
    const message = body?.error?.message ?? response.statusText;
    throw new FetchError(`${path} answered ${response.status}: ${message}`);
  }
  return body;
}

function failed(id, name, detail) {
  return { ok: false, steps: [{ id, name, ok: false, detail }] };
}

// The checkpoint first, then the proof for its size: the log grows while the page asks (every
// read is itself audited), so "the latest" twice could be two different trees.
async function check(element) {
  const base = new URL(element.dataset.api ?? "./", document.baseURI);
  const seq = element.dataset.seq ?? "";
  if (!/^(0|[1-9][0-9]*)$/.test(seq)) return failed("input", "Inputs", `no record seq "${seq}"`);
  const checkpoint = await getJson(base, "audit/checkpoints/latest");
  if (BigInt(seq) >= BigInt(checkpoint.tree_size)) {
    const size = checkpoint.tree_size;
    const detail = `record ${seq} is newer than the latest signed checkpoint (size ${size})`;
    return failed("size", "Tree size", `${detail}: try again in a few seconds`);
  }
  const pinned = element.dataset.vkeys?.split(/\s+/).filter(Boolean);
  const [page, proof, keys] = await Promise.all([
    getJson(base, "audit/records", { after_seq: String(BigInt(seq) - 1n), limit: "1" }),
    getJson(base, "audit/proofs/inclusion", { seq, tree_size: String(checkpoint.tree_size) }),
    pinned?.length ? { keys: pinned } : getJson(base, "audit/keys"),
  ]);
  const record = page.records?.find((found) => String(found.seq) === seq);
  if (!record) return failed("input", "Inputs", `the log has no record with seq ${seq}`);
  return verifyRecord({
    record,
    index: seq,
    treeSize: proof.tree_size,
    leafHashHex: proof.leaf_hash,
    proof: proof.proof,
    checkpointNote: checkpoint.note,
    publicKeys: keys.keys,
    origin: keys.origin ?? element.dataset.origin,
  });
}

function render(element, result) {
  const list =
    element.querySelector("[data-verify-steps]") ??
    element.appendChild(document.createElement("ol"));
  list.setAttribute("aria-live", "polite");
  list.replaceChildren(...result.steps.map(stepItem));
  element.dataset.verifyResult = result.ok ? "ok" : "failed";
}

// textContent only: details quote what the server sent, which must never become markup.
function stepItem(step) {
  const item = document.createElement("li");
  item.dataset.step = step.id;
  item.dataset.ok = String(step.ok);
  const name = document.createElement("strong");
  name.textContent = `${step.ok ? "\u2714 passed" : "\u2718 failed"}: ${step.name}`;
  const detail = document.createElement("span");
  detail.textContent = ` \u2014 ${step.detail}`;
  item.append(name, detail);
  return item;
}

export async function verifyElement(element) {
  element.dataset.verifyResult = "running";
  element.setAttribute("aria-busy", "true");
  const result = await check(element).catch((error) =>
    failed("fetch", "Fetching", error instanceof FetchError ? error.message : `error: ${error}`),
  );
  render(element, result);
  element.removeAttribute("aria-busy");
  return result;
}

for (const element of document.querySelectorAll("[data-verify]")) {
  const button = element.querySelector("[data-verify-run]");
  if (button) button.addEventListener("click", () => verifyElement(element));
  else verifyElement(element);
}
