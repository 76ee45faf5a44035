"""A second, minimal reading of c2sp.org/signed-note, written from the spec text alone.

It shares no code with services.audit.log.domain.note, so a note both accept was not judged by
one bug twice.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

TESTDATA = Path(__file__).resolve().parents[1] / "testdata"


def load_vectors() -> Any:
    return json.loads((TESTDATA / "signed-note-vectors.json").read_text(encoding="utf-8"))


def verified_text(note: str, vkey: str) -> str:
    """The note's text if it holds a valid signature by `vkey`; AssertionError otherwise."""
    name, key_id_hex, key_b64 = vkey.split("+", 2)
    key = base64.b64decode(key_b64, validate=True)
    assert key[:1] == b"\x01", "not an Ed25519 verifier key"
    assert len(key) == 33, "an Ed25519 key is 32 bytes"
    key_id = hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]
    assert key_id.hex() == key_id_hex, "the vkey's key id does not match its key"
    assert note.endswith("\n"), "a note ends in a newline"
    text, _, signatures = note.rpartition("\n\n")
    for line in signatures[:-1].split("\n"):
        dash, signer, sig_b64 = line.split(" ")
        assert dash == "\u2014", "a signature line starts with an em dash"
        blob = base64.b64decode(sig_b64, validate=True)
        if signer == name and blob[:4] == key_id:
            # verify() raises InvalidSignature on a bad signature; that fails the test too.
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(blob[4:], (text + "\n").encode())
            return text + "\n"
    raise AssertionError(f"no signature by {name}+{key_id_hex}")
