// Checks, in the browser, that an audit record is in the signed log: its RFC 9162 inclusion
// proof against a C2SP checkpoint in a C2SP signed note, with SHA-256 and Ed25519 from WebCrypto.
// Nothing here fetches: the page hands in what it fetched, so this module trusts no server.
//
// What a passing verifyRecord proves, and what it does not:
// - The record's fields (all but recorded_at, which the log does not hash, and the payload text,
//   which it commits to through payload_sha256) re-encode to bytes whose leaf hash the proof
//   leads from to the root of a tree of `treeSize` records.
// - That root and size are the ones a checkpoint states, signed by one of `publicKeys`.
// - Keys the same server hands out prove only that the log agrees with itself; a reviewer who
//   wants more pins the keys (verify-page.js takes them from the page) and compares them with
//   ones obtained elsewhere.
// The canonical encoding is the one audit_service.proto specifies on AuditRecord and
// services/audit/log/domain/records.py writes.

const HASH_SIZE = 32;
const ED25519 = 0x01;
const MAX_SIZE = (1n << 64n) - 1n; // tree sizes are uint64 (RFC 9162, C2SP tlog-checkpoint)
const MAX_SIGNATURES = 100; // as golang.org/x/mod/sumdb/note: bounds an untrusted note's work
const SIGNATURE_PREFIX = "\u2014 "; // an em dash and a space start every signature line
const DECIMAL = /^(0|[1-9][0-9]*)$/;
const utf8 = new TextEncoder();

/** A refusal; `kind` names which: "malformed", "bad-key", "unverified", "bad-signature",
 * "proof", "record" or "unavailable". */
export class VerifyError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = "VerifyError";
    this.kind = kind;
  }
}

function fail(kind, message) {
  throw new VerifyError(kind, message);
}

// ---- bytes ----

export function fromHex(text, what = "the value") {
  if (typeof text !== "string" || text.length % 2 || !/^[0-9a-fA-F]*$/.test(text)) {
    fail("malformed", `${what} is not hexadecimal`);
  }
  return Uint8Array.from(text.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

export function toHex(bytes) {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

// Only the canonical encoding is accepted (padded, no whitespace): one value, one text, as the
// audit service writes and reads roots. atob alone would forgive missing padding and spaces.
export function fromBase64(text, what = "the value", kind = "malformed") {
  let binary = null;
  try {
    binary = atob(text);
  } catch {
    fail(kind, `${what} is not base64`);
  }
  if (btoa(binary) !== text) fail(kind, `${what} is not canonical base64`);
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => (out.set(part, offset), offset + part.length), 0);
  return out;
}

function equal(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function subtle() {
  // WebCrypto exists only in a secure context: https, or http from localhost.
  if (!globalThis.crypto?.subtle) {
    fail("unavailable", "WebCrypto is unavailable: serve the page over https or from localhost");
  }
  return globalThis.crypto.subtle;
}

export async function sha256(...parts) {
  return new Uint8Array(await subtle().digest("SHA-256", concat(...parts)));
}

// ---- RFC 9162 §2.1.1: hashes ----

export function leafHash(data) {
  return sha256(Uint8Array.of(0x00), data);
}

export function nodeHash(left, right) {
  return sha256(Uint8Array.of(0x01), left, right);
}

function requireHash(value, what) {
  if (!(value instanceof Uint8Array) || value.length !== HASH_SIZE) {
    fail("proof", `${what} is ${value?.length ?? 0} bytes, not ${HASH_SIZE}`);
  }
}

/** A whole number as a BigInt: tree sizes reach 2^64, beyond what a Number holds exactly. */
export function wholeNumber(value, what) {
  if (typeof value === "bigint") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === "string" && DECIMAL.test(value)) return BigInt(value);
  return fail("malformed", `${what} is not a whole number`);
}

// ---- RFC 9162 §2.1.3.2: the root an inclusion proof leads to ----

export async function rootFromInclusionProof(index, size, leaf, proof) {
  const n = wholeNumber(size, "the tree size");
  let fn = wholeNumber(index, "the leaf index");
  if (fn < 0n || fn >= n) fail("proof", `leaf index ${fn} is outside a tree of size ${n}`);
  requireHash(leaf, "the leaf hash");
  proof.forEach((hash, i) => requireHash(hash, `proof hash ${i + 1}`));
  let sn = n - 1n;
  let root = leaf;
  for (const hash of proof) {
    if (sn === 0n) fail("proof", `the proof has more hashes than a tree of size ${n} needs`);
    if (fn & 1n || fn === sn) {
      root = await nodeHash(hash, root);
      // The right edge of an unbalanced tree: climb until this node is a right child.
      while (fn !== 0n && !(fn & 1n)) [fn, sn] = [fn >> 1n, sn >> 1n];
    } else {
      root = await nodeHash(root, hash);
    }
    [fn, sn] = [fn >> 1n, sn >> 1n];
  }
  if (sn !== 0n) fail("proof", `the proof has fewer hashes than a tree of size ${n} needs`);
  return root;
}

export async function verifyInclusion(index, size, leaf, proof, root) {
  requireHash(root, "the root hash");
  const reached = await rootFromInclusionProof(index, size, leaf, proof);
  if (!equal(reached, root)) fail("proof", "the proof leads to a different root");
  return true;
}

// ---- C2SP signed-note: keys ----

// As Go's isValidName: not empty, no "+", no white space.
function validName(name) {
  return typeof name === "string" && name !== "" && !name.includes("+") && !/\s/.test(name);
}

/** The key hash: SHA-256(name || 0x0A || 0x01 || public key)[:4] for Ed25519. */
export async function keyHash(name, publicKey) {
  const digest = await sha256(utf8.encode(name), Uint8Array.of(0x0a, ED25519), publicKey);
  return digest.slice(0, 4);
}

/** A verifier key `name+hexkeyhash+base64(0x01 || public key)`, its key hash checked. */
export async function parseVerifierKey(vkey) {
  if (typeof vkey !== "string") fail("bad-key", "a verifier key must be text");
  const first = vkey.indexOf("+");
  const second = vkey.indexOf("+", first + 1); // the base64 key may itself hold "+"
  const [name, hashHex] = [vkey.slice(0, first), vkey.slice(first + 1, second)];
  if (first < 0 || second < 0 || !validName(name) || !/^[0-9a-fA-F]{8}$/.test(hashHex)) {
    fail("bad-key", "a verifier key is name+keyhash+key");
  }
  const key = fromBase64(vkey.slice(second + 1), "the key", "bad-key");
  if (key.length !== 33 || key[0] !== ED25519) fail("bad-key", "not an Ed25519 verifier key");
  const publicKey = key.slice(1);
  const hash = await keyHash(name, publicKey);
  if (toHex(hash) !== hashHex.toLowerCase()) {
    fail("bad-key", `the key hash ${hashHex} of ${name} does not match its key`);
  }
  return { name, keyHash: hash, publicKey, vkey };
}

// ---- C2SP signed-note: notes ----

// UTF-8 without control characters other than newline, as Go's note.Open demands.
function noteText(note) {
  let text = note;
  if (typeof note !== "string") {
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(note);
    } catch {
      fail("malformed", "the note is not valid UTF-8");
    }
  }
  if (!text.isWellFormed()) fail("malformed", "the note is not valid UTF-8");
  if (/[\x00-\x09\x0b-\x1f]/.test(text)) {
    fail("malformed", "the note holds a control character other than newline");
  }
  return text;
}

function parseSignatureLine(line) {
  if (!line.startsWith(SIGNATURE_PREFIX)) {
    fail("malformed", "a signature line starts with an em dash and a space");
  }
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(" ");
  const name = space < 0 ? rest : rest.slice(0, space);
  const blob = fromBase64(space < 0 ? "" : rest.slice(space + 1), "a signature");
  if (!validName(name) || blob.length < 5) fail("malformed", `bad signature line: ${line}`);
  return { name, keyHash: blob.slice(0, 4), signature: blob.slice(4) };
}

/** The note's text (what was signed, through its last newline) and its signature lines. */
export function parseNote(note) {
  const whole = noteText(note);
  // The signatures follow the LAST blank line: the text itself may hold blank lines.
  const split = whole.lastIndexOf("\n\n");
  const block = whole.slice(split + 2);
  if (split < 0 || !block.endsWith("\n")) {
    fail("malformed", "the note has no signature lines after a blank line");
  }
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) fail("malformed", `more than ${MAX_SIGNATURES} signatures`);
  return { text: whole.slice(0, split + 1), signatures: lines.map(parseSignatureLine) };
}

function keyLabel(key) {
  return `${key.name}+${toHex(key.keyHash)}`;
}

/** Pairs each signature with the known key of its name and key hash; as Go, only the first
 * signature of a key counts. */
export function matchSignatures(parsed, keys) {
  const known = [];
  const unverified = [];
  for (const sig of parsed.signatures) {
    const key = keys.find((k) => k.name === sig.name && equal(k.keyHash, sig.keyHash));
    if (!key) unverified.push(sig);
    else if (!known.some((pair) => pair.key === key)) known.push({ sig, key });
  }
  return { known, unverified };
}

export async function ed25519Verify(publicKey, signature, message) {
  const algorithm = { name: "Ed25519" };
  let key = null;
  try {
    key = await subtle().importKey("raw", publicKey, algorithm, false, ["verify"]);
  } catch (error) {
    // A browser without Ed25519 in WebCrypto, or 32 bytes that are not a curve point.
    fail("bad-key", `this browser cannot use the Ed25519 key: ${error.message}`);
  }
  return subtle().verify(algorithm, key, signature, message);
}

/** Every known key's signature must verify: one bad signature fails the note, as in Go. */
export async function checkSignatures(text, known) {
  const message = utf8.encode(text);
  for (const { sig, key } of known) {
    if (!(await ed25519Verify(key.publicKey, sig.signature, message))) {
      fail("bad-signature", `the signature by ${keyLabel(key)} does not verify`);
    }
  }
}

/** Opens a note as golang.org/x/mod/sumdb/note's Open: `vkeys` are verifier key strings. */
export async function verifyNote(note, vkeys) {
  const parsed = parseNote(note);
  const keys = await Promise.all(vkeys.map(parseVerifierKey));
  const { known, unverified } = matchSignatures(parsed, keys);
  await checkSignatures(parsed.text, known);
  if (!known.length) {
    const names = unverified.map(keyLabel).join(", ");
    fail("unverified", `no signature by a known key (signed by ${names || "no one"})`);
  }
  return { text: parsed.text, verified: known.map((pair) => pair.sig), unverified };
}

// ---- C2SP tlog-checkpoint ----

/** origin, size and root lines, then optional extension lines, each ending in a newline. */
export function parseCheckpoint(text) {
  if (!text.endsWith("\n")) fail("malformed", "the checkpoint must end in a newline");
  const [origin, size, root, ...extensions] = text.slice(0, -1).split("\n");
  if (root === undefined) fail("malformed", "the checkpoint needs origin, size and root lines");
  if (!origin) fail("malformed", "the checkpoint's origin line is empty");
  if (!DECIMAL.test(size) || BigInt(size) > MAX_SIZE) {
    fail("malformed", `the checkpoint's tree size "${size}" is not a uint64 in decimal`);
  }
  const rootHash = fromBase64(root, "the checkpoint's root hash");
  if (rootHash.length !== HASH_SIZE) fail("malformed", "the checkpoint's root is not 32 bytes");
  if (extensions.some((line) => !line)) fail("malformed", "the checkpoint has an empty line");
  return { origin, size: BigInt(size), root: rootHash, extensions };
}

// ---- the audit record's leaf ----

function text(value, what) {
  if (typeof value !== "string") fail("record", `the record has no ${what}`);
  return value;
}

// The REST API writes Timestamps as proto3 JSON (0, 3, 6 or 9 fraction digits); the log
// hashes exactly six. Nine digits that are not whole microseconds were never what it hashed.
function microseconds(value) {
  const found = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{3}|\d{6}|\d{6}000))?Z$/.exec(value);
  if (!found) fail("record", `occurred_at "${value}" is not an RFC 3339 UTC time to the µs`);
  return `${found[1]}.${(found[2] ?? "").slice(0, 6).padEnd(6, "0")}Z`;
}

function sortedActor(actor) {
  if (!actor || !Array.isArray(actor.roles)) fail("record", "the record has no actor roles");
  return {
    desk: text(actor.desk, "actor desk"),
    kind: text(actor.kind, "actor kind"),
    logic_version: text(actor.logic_version, "actor logic_version"),
    roles: actor.roles.map((role) => text(role, "role")),
    subject: text(actor.subject, "actor subject"),
  };
}

function safeSeq(record) {
  const seq = wholeNumber(record.seq, "the record's seq");
  if (seq > BigInt(Number.MAX_SAFE_INTEGER)) fail("record", `seq ${seq} is beyond 2^53`);
  return Number(seq);
}

/** The canonical encoding `leaf_hash` covers, from a record as the REST API returns it: keys
 * sorted, no white space, UTF-8 (audit_service.proto, message AuditRecord). */
export function canonicalRecord(record) {
  const event = record?.event;
  if (!event) fail("record", "the record has no event");
  const field = (name) => text(event[name], name);
  // Keys in sorted order: JSON.stringify keeps insertion order and adds no white space, and
  // escapes a well-formed string exactly as Python's json does with ensure_ascii=False (", \,
  // \b \f \n \r \t, other controls as lowercase \u00XX, everything else as it is).
  return JSON.stringify({
    action: field("action"),
    actor: sortedActor(event.actor),
    event_id: field("event_id"),
    occurred_at: microseconds(event.occurred_at),
    outcome: field("outcome"),
    payload_sha256: text(record.payload_sha256, "payload_sha256"),
    prev_hash: text(record.prev_hash, "prev_hash"),
    seq: safeSeq(record),
    source: field("source"),
    target: field("target"),
    trace_id: field("trace_id"),
  });
}

export function recordLeafBytes(record) {
  return utf8.encode(canonicalRecord(record));
}

// ---- verifyRecord: every check as a step ----

const STEP_NAMES = {
  input: "Inputs",
  payload: "Payload hash",
  leaf: "Leaf hash",
  proof: "Inclusion proof",
  note: "Signed note",
  checkpoint: "Checkpoint",
  key: "Signing key",
  signature: "Ed25519 signature",
  size: "Tree size",
  root: "Root hash",
};

class Steps {
  list = [];

  // Runs `check` unless a step it needs failed; a thrown error becomes the step's reason.
  async run(id, needs, check) {
    const blocked = needs.filter((need) => !this.passed(need));
    if (blocked.length) return this.add(id, false, `not checked: ${this.names(blocked)} failed`);
    try {
      const { detail, value } = await check();
      this.add(id, true, detail, value);
    } catch (error) {
      this.add(id, false, error instanceof VerifyError ? error.message : `error: ${error}`);
    }
  }

  add(id, ok, detail, value) {
    this.list.push({ id, name: STEP_NAMES[id], ok, detail, value });
  }

  passed(id) {
    return this.list.some((step) => step.id === id && step.ok);
  }

  value(id) {
    return this.list.find((step) => step.id === id)?.value;
  }

  names(ids) {
    return ids.map((id) => STEP_NAMES[id].toLowerCase()).join(" and ");
  }

  result() {
    const steps = this.list.map(({ value, ...shown }) => shown);
    return { ok: steps.every((step) => step.ok), steps };
  }
}

async function payloadStep(record) {
  const payload = record.event?.payload_json;
  if (typeof payload !== "string") fail("record", "the record has no payload_json");
  const digest = toHex(await sha256(utf8.encode(payload)));
  if (digest === record.payload_sha256) {
    return { detail: `the payload text hashes to the recorded ${digest}` };
  }
  // A redacted payload is served empty; the record still commits to the original's hash.
  if (payload === "") {
    return { detail: "the payload text was removed (redacted); only its hash is in the log" };
  }
  const recorded = record.payload_sha256;
  return fail("record", `the payload text hashes to ${digest}, not the recorded ${recorded}`);
}

async function leafFromInput(input) {
  if (input.record) {
    const leaf = await leafHash(recordLeafBytes(input.record));
    const stored = input.record.leaf_hash;
    if (stored !== undefined && stored !== toHex(leaf)) {
      fail("record", `the record's fields hash to ${toHex(leaf)}, not its leaf_hash ${stored}`);
    }
    return { leaf, how: "the record's canonical encoding" };
  }
  if (input.leafBytes !== undefined) {
    const bytes = typeof input.leafBytes === "string" ? fromHex(input.leafBytes) : input.leafBytes;
    return { leaf: await leafHash(bytes), how: "the leaf bytes" };
  }
  return { leaf: null, how: "" };
}

async function leafStep(input) {
  const { leaf, how } = await leafFromInput(input);
  const given = input.leafHashHex === undefined ? null : fromHex(input.leafHashHex, "leafHashHex");
  if (leaf && given && !equal(leaf, given)) {
    fail("record", `${how} hashes to ${toHex(leaf)}, but the proof is for leaf ${toHex(given)}`);
  }
  if (leaf) return { value: leaf, detail: `SHA-256(0x00 || ${how}) = ${toHex(leaf)}` };
  if (given) return { value: given, detail: `taken as given, not recomputed: ${toHex(given)}` };
  return fail("record", "neither a record, leaf bytes nor a leaf hash was given");
}

async function proofStep(input, leaf) {
  const index = input.index ?? input.record?.seq;
  if (input.record && wholeNumber(index, "the index") !== wholeNumber(input.record.seq, "seq")) {
    fail("record", `the proof is for leaf ${index}, the record is seq ${input.record.seq}`);
  }
  if (!Array.isArray(input.proof)) fail("proof", "the proof is not a list of hashes");
  const hashes = input.proof.map((hex, i) => fromHex(hex, `proof hash ${i + 1}`));
  const root = await rootFromInclusionProof(index, input.treeSize, leaf, hashes);
  const size = wholeNumber(input.treeSize, "the tree size");
  return {
    value: { root, size },
    detail: `${hashes.length} hashes lead from leaf ${index} to ${toHex(root)}, size ${size}`,
  };
}

function noteStep(input) {
  const parsed = parseNote(input.checkpointNote);
  const names = parsed.signatures.map(keyLabel).join(", ");
  return { value: parsed, detail: `${parsed.signatures.length} signature(s): ${names}` };
}

function checkpointStep(input, parsed) {
  const checkpoint = parseCheckpoint(parsed.text);
  if (input.origin !== undefined && checkpoint.origin !== input.origin) {
    fail("malformed", `the origin "${checkpoint.origin}" is not this log's "${input.origin}"`);
  }
  return {
    value: checkpoint,
    detail: `${checkpoint.origin}, size ${checkpoint.size}, root ${toHex(checkpoint.root)}`,
  };
}

// Keys come as vkey strings or as the REST API's PublicKey objects, whose window
// [from_size, until_size) bounds the sizes each may sign (until_size -1: open-ended).
async function trustedKey(entry) {
  const vkey = typeof entry === "string" ? entry : entry?.vkey;
  const key = await parseVerifierKey(vkey);
  const from = entry?.from_size === undefined ? 0n : wholeNumber(entry.from_size, "from_size");
  const until = entry?.until_size ?? -1;
  return { ...key, from, until: until === -1 ? null : wholeNumber(until, "until_size") };
}

function windowText(key) {
  return `[${key.from}, ${key.until ?? "open"})`;
}

async function keyStep(input, parsed, checkpoint) {
  if (!Array.isArray(input.publicKeys)) fail("bad-key", "no public keys were given");
  const keys = await Promise.all(input.publicKeys.map(trustedKey));
  const { known, unverified } = matchSignatures(parsed, keys);
  if (!known.length) {
    const names = unverified.map(keyLabel).join(", ");
    const trusted = keys.map(keyLabel).join(", ");
    fail("unverified", `no signature is by a known key: signed by ${names}, known: ${trusted}`);
  }
  const size = checkpoint.size;
  const outside = known.find(({ key }) => size < key.from || (key.until && size >= key.until));
  if (outside) {
    fail("bad-key", `${keyLabel(outside.key)} signs sizes ${windowText(outside.key)}, not ${size}`);
  }
  const labels = known.map(({ key }) => `${keyLabel(key)} ${windowText(key)}`).join(", ");
  return { value: known, detail: `signed by ${labels}` };
}

async function signatureStep(parsed, known) {
  await checkSignatures(parsed.text, known);
  return { detail: `${known.length} Ed25519 signature(s) over the checkpoint verify` };
}

function sizeStep(proven, checkpoint) {
  if (proven.size !== checkpoint.size) {
    const sizes = `${proven.size}, the checkpoint for size ${checkpoint.size}`;
    fail("proof", `the proof is for a tree of size ${sizes}`);
  }
  return { detail: `both are for a tree of ${checkpoint.size} records` };
}

function rootStep(proven, checkpoint) {
  if (!equal(proven.root, checkpoint.root)) {
    const roots = `${toHex(proven.root)}, the checkpoint signs ${toHex(checkpoint.root)}`;
    fail("proof", `the proof leads to ${roots}`);
  }
  return { detail: `the proof's root is the signed root ${toHex(checkpoint.root)}` };
}

async function runSteps(input, steps) {
  if (input.record) await steps.run("payload", [], () => payloadStep(input.record));
  await steps.run("leaf", [], () => leafStep(input));
  await steps.run("proof", ["leaf"], () => proofStep(input, steps.value("leaf")));
  await steps.run("note", [], () => noteStep(input));
  await steps.run("checkpoint", ["note"], () => checkpointStep(input, steps.value("note")));
  const [note, checkpoint] = [steps.value("note"), steps.value("checkpoint")];
  await steps.run("key", ["checkpoint"], () => keyStep(input, note, checkpoint));
  await steps.run("signature", ["key"], () => signatureStep(note, steps.value("key")));
  const proven = () => steps.value("proof");
  await steps.run("size", ["proof", "checkpoint"], () => sizeStep(proven(), checkpoint));
  await steps.run("root", ["size"], () => rootStep(proven(), checkpoint));
}

/**
 * Checks a record against a signed checkpoint. `input`: record (as GET /audit/records returns
 * it) or leafBytes (bytes or hex) or leafHashHex; index (defaults to record.seq); treeSize;
 * proof (hex hashes, leaf to root); checkpointNote (the signed note, text or bytes); publicKeys
 * (vkey strings or GET /audit/keys's keys); origin (optional: the log's expected origin).
 * Never throws: returns {ok, steps: [{id, name, ok, detail}]}, every failure a step.
 */
export async function verifyRecord(input) {
  const steps = new Steps();
  try {
    await runSteps(input ?? {}, steps);
  } catch (error) {
    steps.add("input", false, `could not be checked: ${error?.message ?? error}`);
  }
  return steps.result();
}
