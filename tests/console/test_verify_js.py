"""The console's in-browser audit verifier (gateway/console/static/verify.js and verify-page.js)
in Debian's chromium, served from 127.0.0.1 under the gateway's page headers.

Known answers: every hash, inclusion and negative inclusion vector of tests/testdata/
rfc6962-vectors.json, and every key, note and checkpoint of signed-note-vectors.json. The
consistency entries and their 92 negative cases are left out: the page proves one record against
the latest checkpoint and never checks one tree against another (tests/audit/
test_merkle_vectors.py runs them against the service's verifier). Then verifyRecord on a small
log made by the audit service's own code, tampered with every way a server could, and on the
whole system: records of a new incident, verified and tampered with, and the page glue."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from runtime.canonical import canonical_json
from runtime.stack import Stack
from services.audit.log.domain.keyring import Keyring, SigningKey
from services.audit.log.domain.note import Signer, sign
from services.audit.log.domain.records import canonical_record
from tests.browser import watched_page
from tests.console.signed_log import SignedLog, event
from tests.console.verify_harness import Refused, Site, call, serving
from tests.e2e.conftest import e2e_pg, eventually, otlp, stack
from tests.e2e.test_seed_flow import LATENCY_INCIDENT, records_for

__all__ = ["e2e_pg", "otlp", "stack"]  # the e2e stack's fixtures, reused
TESTDATA = Path(__file__).resolve().parents[1] / "testdata"
V: dict[str, Any] = json.loads((TESTDATA / "rfc6962-vectors.json").read_text("utf-8"))
N: dict[str, Any] = json.loads((TESTDATA / "signed-note-vectors.json").read_text("utf-8"))
NEGATIVE = [case for case in V["negative"] if case["kind"] == "inclusion"]
STEPS = ["payload", "leaf", "proof", "note", "checkpoint", "key", "signature", "size", "root"]
Inputs = dict[str, Any]


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with serving() as running:
        yield running


@pytest.fixture(scope="module")
def page(site: Site, browser: Browser) -> Iterator[Page]:
    """A blank page of the site: verify.js's exports are called in it through the bridge."""
    with watched_page(browser) as watched:
        watched.page.goto(f"{site.url}/blank.html")
        yield watched.page
        assert watched.errors == []


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def first_failure(result: dict[str, Any]) -> dict[str, Any]:
    """The first failed step, after checking every step before it passed."""
    steps: list[dict[str, Any]] = result["steps"]
    failed = [step for step in steps if not step["ok"]]
    assert failed, result
    before = steps[: steps.index(failed[0])]
    assert all(step["ok"] for step in before)
    return failed[0]


# ---- RFC 6962 / RFC 9162 vectors ----


def test_the_page_is_a_secure_context_with_webcrypto(page: Page) -> None:
    assert page.evaluate("window.isSecureContext && typeof crypto.subtle.verify") == "function"


@pytest.mark.parametrize("vector", V["hash_vectors"], ids=lambda v: v["kind"])
def test_each_hash_vector_is_reproduced_with_webcrypto(page: Page, vector: dict[str, Any]) -> None:
    if vector["kind"] == "empty_tree_root":
        got = call(page, "sha256", b"")
    elif vector["kind"] == "leaf":
        got = call(page, "leafHash", h(vector["input_hex"]))
    else:
        got = call(page, "nodeHash", h(vector["left_hex"]), h(vector["right_hex"]))

    assert got.hex() == vector["hash_hex"]


def test_the_standard_leaves_hash_to_the_published_leaf_hashes(page: Page) -> None:
    got = [call(page, "leafHash", h(leaf)).hex() for leaf in V["leaves_hex"]]

    assert got == V["leaf_hashes_hex"]


@pytest.mark.parametrize("case", V["inclusion"], ids=lambda c: f"{c['index']}-of-{c['size']}")
def test_each_published_inclusion_proof_leads_to_its_root(page: Page, case: dict[str, Any]) -> None:
    proof, leaf = [h(node) for node in case["proof_hex"]], h(case["leaf_hash_hex"])
    if case["leaf_hex"] is not None:
        assert call(page, "leafHash", h(case["leaf_hex"])) == leaf

    root = call(page, "rootFromInclusionProof", case["index"], case["size"], leaf, proof)

    assert root.hex() == case["root_hex"]
    assert call(page, "verifyInclusion", case["index"], case["size"], leaf, proof, root) is True


@pytest.mark.parametrize("case", NEGATIVE, ids=lambda c: f"{c['file']}: {c['desc']}")
def test_each_published_bad_inclusion_proof_is_refused(page: Page, case: dict[str, Any]) -> None:
    proof = [h(node) for node in case["proof_hex"]]
    arguments = (case["index"], case["size"], h(case["leaf_hash_hex"]), proof, h(case["root_hex"]))

    with pytest.raises(Refused) as refused:
        call(page, "verifyInclusion", *arguments)

    assert (refused.value.name, refused.value.kind) == ("VerifyError", "proof")


def test_the_vectors_hold_the_cases_their_readme_promises() -> None:
    assert (len(V["inclusion"]), len(NEGATIVE), len(V["hash_vectors"])) == (8, 92, 4)


# ---- C2SP signed-note vectors ----


def note_of(entry: dict[str, Any]) -> str | bytes:
    return h(entry["signed_note_hex"]) if "signed_note_hex" in entry else entry["signed_note"]


def expected_kind(expect: str) -> str:
    # The vectors describe failures in words; these are the words each of our kinds covers.
    for words, kind in (
        ("malformed", "malformed"),
        ("no verifiable", "unverified"),
        ("does not verify", "bad-signature"),
        ("invalid signature", "bad-signature"),
    ):
        if words in expect:
            return kind
    raise AssertionError(f"no kind maps to the expectation {expect!r}")


@pytest.mark.parametrize("key", N["keys"], ids=lambda k: k["name"])
def test_a_published_vkey_parses_and_its_key_hash_is_recomputed(
    page: Page, key: dict[str, Any]
) -> None:
    parsed = call(page, "parseVerifierKey", key["vkey"])

    assert (parsed["name"], parsed["keyHash"].hex()) == (key["name"], key["key_id_hex"])
    assert call(page, "keyHash", key["name"], parsed["publicKey"]).hex() == key["key_id_hex"]


@pytest.mark.parametrize("bad", N["bad_vkeys"], ids=lambda bad: bad["why"])
def test_a_bad_vkey_is_refused(page: Page, bad: dict[str, Any]) -> None:
    with pytest.raises(Refused) as refused:
        call(page, "parseVerifierKey", bad["vkey"])

    assert refused.value.kind == "bad-key"


@pytest.mark.parametrize("entry", N["valid"], ids=lambda e: e["id"])
def test_a_valid_note_verifies_with_its_keys(page: Page, entry: dict[str, Any]) -> None:
    opened = call(page, "verifyNote", entry["signed_note"], entry["verify_with"])

    assert opened["text"] == entry["text"]
    verified = [sig["keyHash"].hex() for sig in opened["verified"]]
    assert verified == entry["expect_verified_key_ids_hex"]
    assert opened["unverified"] == []


def test_a_note_signed_twice_verifies_with_one_known_key_and_names_the_other(page: Page) -> None:
    both = next(entry for entry in N["valid"] if entry["id"] == "peter-and-enoch")

    opened = call(page, "verifyNote", both["signed_note"], both["verify_with"][:1])

    assert [sig["name"] for sig in opened["verified"]] == ["PeterNeumann"]
    assert [(s["name"], s["keyHash"].hex()) for s in opened["unverified"]] == [
        ("EnochRoot", "af0cfe78")
    ]


@pytest.mark.parametrize("entry", N["invalid"], ids=lambda e: e["id"])
def test_an_invalid_note_is_refused_for_the_expected_reason(
    page: Page, entry: dict[str, Any]
) -> None:
    with pytest.raises(Refused) as refused:
        call(page, "verifyNote", note_of(entry), entry["verify_with"])

    assert refused.value.kind == expected_kind(entry["expect"])


@pytest.mark.parametrize("example", N["checkpoint_examples"], ids=lambda e: e["origin"])
def test_a_checkpoint_body_parses_to_origin_size_and_root(
    page: Page, example: dict[str, Any]
) -> None:
    if "signed_note" in example:
        assert call(page, "parseNote", example["signed_note"])["text"] == example["text"]

    parsed = call(page, "parseCheckpoint", example["text"])

    assert (parsed["origin"], parsed["size"]) == (example["origin"], example["size"])
    assert parsed["root"].hex() == example["root_hex"]


@pytest.mark.parametrize("example", N["format_only_examples"], ids=lambda e: e["from"])
def test_a_note_whose_key_is_unpublished_parses_but_never_verifies(
    page: Page, example: dict[str, Any]
) -> None:
    parsed = call(page, "parseNote", example["signed_note"])
    assert parsed["text"] == example["text"]
    assert [s["keyHash"].hex() for s in parsed["signatures"]] == [example["signature_key_id_hex"]]

    with pytest.raises(Refused) as refused:
        call(page, "verifyNote", example["signed_note"], [])

    assert refused.value.kind == "unverified"


# ---- verifyRecord on a log made by the audit service's own code ----

ORIGIN = "tradeops.test/audit"
RETIRED, CURRENT = Signer.generate("tradeops.test-audit"), Signer.generate("tradeops.test-audit")
# Strings JSON escapes (quote, backslash, controls) or keeps as they are (non-ASCII, U+2028,
# DEL), and times with 0, 3 and 6 fraction digits in their REST form.
EVENTS = [
    event(0, "incident/plain", 0),
    event(1, 'incident/"quoted" \\ back\\slash', 123000),
    event(2, "incident/tab\there\nnewline\x01\x1f\x7f", 123456, source="ägent"),
    event(3, "incident/\u2028\u00e9\U0001f600", 999999, payload_json='{"who":"Zoë"}'),
    event(4, "incident/4", 1, trace_id=""),
    event(5, "incident/5", 500000, outcome="denied"),
    event(6, "incident/6", 42),
]


@pytest.fixture(scope="module")
def log() -> SignedLog:
    """Seven records; the retired key signed sizes [0, 4), the current one signs from 4."""
    keyring = Keyring([SigningKey(RETIRED, 0, 4), SigningKey(CURRENT, 4)])
    return SignedLog.of(EVENTS, keyring, ORIGIN)


def test_the_record_encoding_is_the_audit_services_byte_for_byte(
    page: Page, log: SignedLog
) -> None:
    for record in log.records:
        expected = canonical_record(
            record.seq, record.event, record.payload_sha256, record.prev_hash
        )
        assert call(page, "canonicalRecord", log.record(record.seq)) == expected


@pytest.mark.parametrize(
    ("written", "hashed"),
    [
        ("2026-12-06T09:30:02Z", "2026-12-06T09:30:02.000000Z"),
        ("2026-12-06T09:30:02.120Z", "2026-12-06T09:30:02.120000Z"),
        ("2026-12-06T09:30:02.123456Z", "2026-12-06T09:30:02.123456Z"),
        ("2026-12-06T09:30:02.123456000Z", "2026-12-06T09:30:02.123456Z"),
    ],
)
def test_a_time_in_any_proto3_json_form_is_hashed_with_six_digits(
    page: Page, log: SignedLog, written: str, hashed: str
) -> None:
    record = changed({"record": log.record(2)}, occurred_at=written)["record"]

    assert f'"occurred_at":"{hashed}"' in call(page, "canonicalRecord", record)


@pytest.mark.parametrize("moment", ["2026-12-06T09:30:02.123456789Z", "2026-12-06T09:30:02+01:00"])
def test_a_time_the_log_cannot_have_hashed_is_refused(
    page: Page, log: SignedLog, moment: str
) -> None:
    record = changed({"record": log.record(2)}, occurred_at=moment)["record"]

    with pytest.raises(Refused) as refused:
        call(page, "canonicalRecord", record)

    assert refused.value.kind == "record"


@pytest.mark.parametrize("control", ["\t", "\r", "\x00", "\x1b"], ids=repr)
def test_a_note_with_a_control_character_other_than_newline_is_malformed(
    page: Page, log: SignedLog, control: str
) -> None:
    note = log.note(7).replace("\n", f"{control}\n", 1)

    with pytest.raises(Refused, match="control character") as refused:
        call(page, "parseNote", note)

    assert refused.value.kind == "malformed"


@pytest.mark.parametrize("size", [4, 7])
def test_every_record_verifies_with_every_step_passed(
    page: Page, log: SignedLog, size: int
) -> None:
    for seq in range(size):
        result = call(page, "verifyRecord", log.inputs(seq, size))

        assert [(step["id"], step["ok"]) for step in result["steps"]] == [(s, True) for s in STEPS]
        assert result["ok"] is True


def test_a_record_signed_under_the_retired_key_verifies_within_its_window(
    page: Page, log: SignedLog
) -> None:
    result = call(page, "verifyRecord", log.inputs(1, 3))

    assert result["ok"] is True
    key = next(step for step in result["steps"] if step["id"] == "key")
    assert key["detail"] == f"signed by {RETIRED.name}+{RETIRED.key_id.hex()} [0, 4)"


def test_a_leaf_hash_alone_verifies_and_says_it_was_not_recomputed(
    page: Page, log: SignedLog
) -> None:
    inputs = {**log.inputs(5, 7), "record": None}

    result = call(page, "verifyRecord", inputs)

    assert result["ok"] is True
    assert [step["id"] for step in result["steps"]] == STEPS[1:]
    assert result["steps"][0]["detail"].startswith("taken as given, not recomputed")


def test_leaf_bytes_are_hashed_with_the_rfc_9162_prefix(page: Page, log: SignedLog) -> None:
    record = log.records[2]
    leaf = canonical_record(2, record.event, record.payload_sha256, record.prev_hash).encode()
    inputs = {**log.inputs(2, 7), "record": None, "leafBytes": leaf}

    result = call(page, "verifyRecord", inputs)

    assert result["ok"] is True
    assert result["steps"][0]["detail"] == f"SHA-256(0x00 || the leaf bytes) = {record.leaf_hash}"


def flipped(inputs: Inputs, earlier: str) -> Inputs:
    node = bytearray(h(inputs["proof"][1]))
    node[7] ^= 0x10
    return {**inputs, "proof": [inputs["proof"][0], node.hex(), *inputs["proof"][2:]]}


def dropped(inputs: Inputs, earlier: str) -> Inputs:
    return {**inputs, "proof": inputs["proof"][:-1]}


def added(inputs: Inputs, earlier: str) -> Inputs:
    return {**inputs, "proof": [*inputs["proof"], inputs["proof"][0]]}


def not_hex(inputs: Inputs, earlier: str) -> Inputs:
    return {**inputs, "proof": ["zz", *inputs["proof"][1:]]}


def changed(inputs: Inputs, **fields: str) -> Inputs:
    record = inputs["record"]
    return {**inputs, "record": {**record, "event": {**record["event"], **fields}}}


def rest_leaf_hash(record: dict[str, Any]) -> str:
    """The leaf hash of a record in its REST form, as audit_service.proto specifies it."""
    event, moment = record["event"], record["event"]["occurred_at"]
    fields = ("action", "actor", "event_id", "outcome", "source", "target", "trace_id")
    body = {
        **{name: event[name] for name in fields},
        "occurred_at": datetime.fromisoformat(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        **{name: record[name] for name in ("seq", "payload_sha256", "prev_hash")},
    }
    return hashlib.sha256(b"\x00" + canonical_json(body).encode()).hexdigest()


def retargeted(inputs: Inputs, earlier: str) -> Inputs:
    return changed(inputs, target="incident/other")


def later(inputs: Inputs, earlier: str) -> Inputs:
    """The time a microsecond later and the record's leaf_hash to match; not the proof's."""
    moved = changed(inputs, occurred_at="2026-12-06T09:30:02.123457Z")
    moved["record"]["leaf_hash"] = rest_leaf_hash(moved["record"])
    return moved


def rewritten(inputs: Inputs, earlier: str) -> Inputs:
    """Another target, and the leaf hash of the result wherever the page reads one."""
    moved = changed(inputs, target="incident/other")
    leaf = moved["record"]["leaf_hash"] = rest_leaf_hash(moved["record"])
    return {**moved, "leafHashHex": leaf}


def new_payload(inputs: Inputs, earlier: str) -> Inputs:
    return changed(inputs, payload_json='{"n":99}')


def text_of(note: str) -> str:
    return note.split("\n\n")[0] + "\n"


def impostor(inputs: Inputs, earlier: str) -> Inputs:
    name = inputs["checkpointNote"].split("\n\n")[1].split(" ")[1]
    signer = Signer.generate(name)  # the same name, another key
    return {**inputs, "checkpointNote": sign(text_of(inputs["checkpointNote"]), [signer])}


def retired(inputs: Inputs, earlier: str) -> Inputs:
    return {**inputs, "checkpointNote": sign(text_of(inputs["checkpointNote"]), [RETIRED])}


def new_root(inputs: Inputs, earlier: str) -> Inputs:
    """Another root under the real signature lines."""
    text, signatures = inputs["checkpointNote"].split("\n\n")
    origin, size, _ = text.split("\n")
    root = base64.b64encode(bytes(32)).decode()
    return {**inputs, "checkpointNote": f"{origin}\n{size}\n{root}\n\n{signatures}"}


def smaller(inputs: Inputs, earlier: str) -> Inputs:
    """A checkpoint of a smaller tree that holds the record too, properly signed."""
    return {**inputs, "checkpointNote": earlier}


def elsewhere(inputs: Inputs, earlier: str) -> Inputs:
    return {**inputs, "origin": "tradeops.elsewhere/audit"}


def unsigned(inputs: Inputs, earlier: str) -> Inputs:
    return {**inputs, "checkpointNote": text_of(inputs["checkpointNote"])}


def other_index(inputs: Inputs, earlier: str) -> Inputs:
    return {**inputs, "index": inputs["index"] + 1}


Tamper = Callable[[Inputs, str], Inputs]
# Each way a server (or whatever stands between it and the page) could lie, with the step that
# must catch it and words of its reason. `earlier` is a properly signed note of a smaller tree.
TAMPERED = [
    pytest.param(flipped, "root", "the proof leads to", id="a bit of one proof node flipped"),
    pytest.param(dropped, "proof", "fewer hashes", id="a proof node dropped"),
    pytest.param(added, "proof", "more hashes", id="a proof node added"),
    pytest.param(not_hex, "proof", "not hexadecimal", id="a proof node that is not hex"),
    pytest.param(retargeted, "leaf", "not its leaf_hash", id="the record's target changed"),
    pytest.param(later, "leaf", "but the proof is for", id="its time and leaf_hash changed"),
    pytest.param(rewritten, "root", "the proof leads to", id="its target and every leaf hash"),
    pytest.param(new_payload, "payload", "not the recorded", id="the record's payload changed"),
    pytest.param(impostor, "key", "no signature is by a known key", id="signed by another key"),
    pytest.param(new_root, "signature", "does not verify", id="another root, same signature"),
    pytest.param(smaller, "size", "the checkpoint for size", id="a checkpoint of another size"),
    pytest.param(elsewhere, "checkpoint", "is not this log", id="another log's checkpoint"),
    pytest.param(unsigned, "note", "no signature lines", id="a note without signatures"),
    pytest.param(other_index, "proof", "the record is seq", id="a proof for another record"),
]


@pytest.mark.parametrize(
    ("tamper", "step", "reason"),
    [
        *TAMPERED,
        pytest.param(retired, "key", "signs sizes [0, 4)", id="a retired key beyond its window"),
    ],
)
def test_a_tampered_input_fails_at_the_step_that_catches_it(
    page: Page, log: SignedLog, tamper: Tamper, step: str, reason: str
) -> None:
    result = call(page, "verifyRecord", tamper(log.inputs(2, 7), log.note(5)))

    failed = first_failure(result)
    assert (result["ok"], failed["id"]) == (False, step)
    assert reason in failed["detail"]


@pytest.mark.parametrize(
    "inputs",
    [None, {}, {"record": {"seq": 1}}, {"proof": "x", "publicKeys": [7]}, {"record": "x"}],
    ids=repr,
)
def test_nonsense_is_a_failed_step_never_a_thrown_error(page: Page, inputs: Any) -> None:
    result = call(page, "verifyRecord", inputs)

    assert result["ok"] is False
    assert all(isinstance(step["detail"], str) for step in result["steps"])


# ---- the whole system: four services and the gateway on PostgreSQL ----


@dataclass(frozen=True)
class Proven:
    """What the page would fetch for one record: inputs for verifyRecord against the latest
    checkpoint, and `earlier`, a properly signed checkpoint of a smaller tree holding it too."""

    seq: int
    inputs: Inputs
    earlier: str


@pytest.fixture(scope="module")
def gateway(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway_url(), timeout=15) as client:
        yield client


@pytest.fixture(scope="module")
def viewer(token_for: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for('vera', 'viewer')}"}


def get(gateway: httpx.Client, path: str, headers: dict[str, str], **query: Any) -> Any:
    reply = gateway.get(path, params=query, headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()


def checkpoint_beyond(gateway: httpx.Client, headers: dict[str, str], size: int) -> Any:
    """The latest checkpoint once one is cut beyond `size` records; None until then."""
    reply = gateway.get("/audit/checkpoints/latest", headers=headers)
    if reply.status_code == 404:  # none is cut yet
        return None
    checkpoint = reply.json()
    return checkpoint if checkpoint["tree_size"] > size else None


def new_incident(gateway: httpx.Client, token_for: Callable[..., str]) -> str:
    olga = {"Authorization": f"Bearer {token_for('olga', 'ops')}"}
    created = gateway.post("/incidents", json=LATENCY_INCIDENT, headers=olga)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def created(gateway: httpx.Client, headers: dict[str, str], target: str) -> Any:
    found = records_for(gateway, headers, target)
    return next((r for r in found if r["event"]["action"] == "agent.incident.created"), None)


@pytest.fixture(scope="module")
def proven(gateway: httpx.Client, viewer: dict[str, str], token_for: Callable[..., str]) -> Proven:
    target = f"incident/{new_incident(gateway, token_for)}"
    record = eventually(lambda: created(gateway, viewer, target), what=f"{target} audited")
    seq = record["seq"]
    first = eventually(lambda: checkpoint_beyond(gateway, viewer, seq), what="a checkpoint")
    new_incident(gateway, token_for)  # so that a later checkpoint is cut
    size = first["tree_size"]
    latest = eventually(lambda: checkpoint_beyond(gateway, viewer, size), what="a later one")
    proof = get(gateway, "/audit/proofs/inclusion", viewer, seq=seq, tree_size=latest["tree_size"])
    keys = get(gateway, "/audit/keys", viewer)
    inputs = {
        "record": record,
        "index": seq,
        "treeSize": proof["tree_size"],
        "leafHashHex": proof["leaf_hash"],
        "proof": proof["proof"],
        "checkpointNote": latest["note"],
        "publicKeys": keys["keys"],
        "origin": keys["origin"],
    }
    return Proven(seq, inputs, first["note"])


def test_a_new_incidents_audit_record_verifies_in_the_browser_with_every_step_shown(
    page: Page, proven: Proven
) -> None:
    result = call(page, "verifyRecord", proven.inputs)

    assert [(step["id"], step["ok"]) for step in result["steps"]] == [(s, True) for s in STEPS]
    assert result["ok"] is True
    details = {step["id"]: step["detail"] for step in result["steps"]}
    assert details["checkpoint"].startswith("tradeops.local/audit, size ")
    assert details["key"].startswith("signed by tradeops.local-audit+")
    assert proven.inputs["record"]["leaf_hash"] in details["leaf"]


@pytest.mark.parametrize(("tamper", "step", "reason"), TAMPERED)
def test_a_tampered_record_proof_or_checkpoint_from_the_system_fails_at_its_step(
    page: Page, proven: Proven, tamper: Tamper, step: str, reason: str
) -> None:
    assert len(proven.inputs["proof"]) >= 2  # a tree big enough for every tamper to bite

    result = call(page, "verifyRecord", tamper(proven.inputs, proven.earlier))

    failed = first_failure(result)
    assert (result["ok"], failed["id"]) == (False, step)
    assert reason in failed["detail"]


# ---- verify-page.js: the glue a console page loads, fetching through the site's /api/ ----

SHOWN = """() => [...document.querySelectorAll("[data-verify-steps] li")].map((li) => ({
  id: li.dataset.step, ok: li.dataset.ok === "true", text: li.textContent,
}))"""


@pytest.fixture
def proxied(site: Site, stack: Stack, viewer: dict[str, str]) -> Iterator[Site]:
    """The site's /api/ forwarding to the gateway as the viewer, as the console will for a
    signed-in session."""
    site.upstream, site.headers, site.tamper = stack.gateway_url(), viewer, None
    yield site
    site.upstream, site.headers, site.tamper = "", {}, None


def shown(
    browser: Browser, site: Site, seq: int, screenshot: Path, errors: tuple[str, ...] = ()
) -> tuple[str, list[Any]]:
    """The page's verdict and listed steps, after checking it erred in no way a person would
    not see (but the browser's own `errors`) and asked nothing of any other origin."""
    with watched_page(browser) as watched:
        page = watched.page
        page.goto(f"{site.url}/console/verify.html?seq={seq}")
        done = page.wait_for_selector("[data-verify-result=ok], [data-verify-result=failed]")
        assert done is not None
        page.screenshot(path=str(screenshot), full_page=True)
        assert (watched.errors, watched.csp_violations()) == (list(errors), [])
        assert [url for url in watched.requests if not url.startswith(site.url)] == []
        return str(done.get_attribute("data-verify-result")), page.evaluate(SHOWN)


def test_the_page_fetches_the_record_and_lists_every_step_passed(
    browser: Browser, proxied: Site, proven: Proven, tmp_path: Path
) -> None:
    verdict, steps = shown(browser, proxied, proven.seq, tmp_path / "verified.png")

    assert verdict == "ok"
    assert [(step["id"], step["ok"]) for step in steps] == [(s, True) for s in STEPS]
    assert steps[1]["text"].startswith("\u2714 passed: Leaf hash \u2014 SHA-256(0x00 || ")


def test_a_proof_node_flipped_on_its_way_to_the_page_fails_the_root_step(
    browser: Browser, proxied: Site, proven: Proven, tmp_path: Path
) -> None:
    def flip(path: str, body: Any) -> Any:
        return flipped(body, "") if path == "audit/proofs/inclusion" else body

    proxied.tamper = flip

    verdict, steps = shown(browser, proxied, proven.seq, tmp_path / "tampered.png")

    assert verdict == "failed"
    failed = [step for step in steps if not step["ok"]]
    assert [step["id"] for step in failed] == ["root"]
    assert failed[0]["text"].startswith("\u2718 failed: Root hash \u2014 the proof leads to ")


def test_a_refused_call_shows_the_apis_own_error(
    browser: Browser, proxied: Site, proven: Proven, gateway: httpx.Client, tmp_path: Path
) -> None:
    proxied.headers = {}  # no session: the gateway refuses
    refusal = gateway.get("/audit/checkpoints/latest").json()["error"]["message"]

    # Chromium itself logs every refused request; the page adds nothing.
    logged = "console: Failed to load resource: the server responded with a status of 401 "
    verdict, steps = shown(
        browser, proxied, proven.seq, tmp_path / "refused.png", (f"{logged}(Unauthorized)",)
    )

    assert verdict == "failed"
    assert [(step["id"], step["ok"]) for step in steps] == [("fetch", False)]
    assert f"audit/checkpoints/latest answered 401: {refusal}" in steps[0]["text"]


def test_a_record_beyond_the_latest_checkpoint_is_not_yet_verifiable(
    browser: Browser, proxied: Site, proven: Proven, tmp_path: Path
) -> None:
    verdict, steps = shown(browser, proxied, 10**12, tmp_path / "too-new.png")

    assert verdict == "failed"
    assert [(step["id"], step["ok"]) for step in steps] == [("size", False)]
    assert "newer than the latest signed checkpoint" in steps[0]["text"]
