"""Signing keys with tree-size windows: loading, validation, rotation, and keeping skeys secret."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from services.audit.log.domain.checkpoints.format import Checkpoint, open_checkpoint
from services.audit.log.domain.keyring import (
    Keyring,
    KeyringError,
    PublicKey,
    SigningKey,
    generate_dev_keyring,
)
from services.audit.log.domain.note import NoteError, Signer
from services.audit.log.settings import ENV_KEYS, ENV_KEYS_FILE, keys_file, signing_keys

ORIGIN = "tradeops.example/audit"
OLD, NEW, NEWER = (Signer.generate(ORIGIN) for _ in range(3))


def _entry(signer: Signer, from_size: int, until_size: int | None) -> dict[str, Any]:
    return {"skey": signer.skey, "from_size": from_size, "until_size": until_size}


def _content(*entries: dict[str, Any]) -> str:
    return json.dumps(list(entries))


TWO_KEYS = _content(_entry(NEW, 100, None), _entry(OLD, 0, 100))


def test_keys_load_from_the_file_the_environment_names(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text(TWO_KEYS, encoding="utf-8")
    keyring = signing_keys({ENV_KEYS_FILE: str(path)})
    assert [key.vkey for key in keyring.public_keys()] == [OLD.vkey, NEW.vkey]


def test_keys_load_from_the_environment_variable_itself() -> None:
    keyring = signing_keys({ENV_KEYS: TWO_KEYS})
    assert keyring.public_keys() == [
        PublicKey(ORIGIN, OLD.key_id.hex(), OLD.vkey, 0, 100),
        PublicKey(ORIGIN, NEW.key_id.hex(), NEW.vkey, 100, None),
    ]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "no audit signing keys"),
        ({ENV_KEYS: TWO_KEYS, ENV_KEYS_FILE: "/somewhere"}, "only one of"),
        ({ENV_KEYS_FILE: "/nonexistent/keys.json"}, "cannot read signing keys"),
        ({ENV_KEYS: "[{"}, "not JSON"),
        ({ENV_KEYS: "{}"}, "must be a JSON list"),
        ({ENV_KEYS: "[]"}, "exactly one key must be open-ended, found 0"),
    ],
)
def test_missing_or_unreadable_keys_are_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(KeyringError, match=message):
        signing_keys(environ)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([_entry(OLD, 0, 100), _entry(NEW, 50, None)], "windows overlap"),
        ([_entry(OLD, 0, 100), _entry(NEW, 120, None)], r"gap: no key for sizes \[100, 120\)"),
        ([_entry(OLD, 10, None)], r"gap: no key for sizes \[0, 10\)"),
        ([_entry(OLD, 0, None), _entry(NEW, 100, None)], "exactly one key must be open-ended"),
        ([_entry(OLD, 0, 100), _entry(NEW, 100, 200)], "exactly one key must be open-ended"),
        ([_entry(OLD, 0, 100), _entry(OLD, 100, None)], "only one window"),
        ([_entry(OLD, 0, 0), _entry(NEW, 0, None)], "empty or negative window"),
        ([_entry(OLD, -1, None)], "sizes must be non-negative integers"),
        ([_entry(OLD, 0, True)], "sizes must be non-negative integers"),
        ([{"skey": OLD.skey, "from_size": 0}], "expected exactly the fields"),
        ([{**_entry(OLD, 0, None), "until": 5}], "expected exactly the fields"),
        ([{"skey": 7, "from_size": 0, "until_size": None}], "skey must be a string"),
    ],
)
def test_windows_that_do_not_tile_every_tree_size_are_refused(
    entries: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(KeyringError, match=message):
        Keyring.from_json(_content(*entries))


def test_a_malformed_skey_is_refused_without_quoting_it() -> None:
    broken = OLD.skey[:-4] + "AAAA"
    with pytest.raises(KeyringError, match="key 0: malformed key") as refused:
        Keyring.from_json(_content({"skey": broken, "from_size": 0, "until_size": None}))
    assert broken.split("+", 4)[-1] not in str(refused.value)


@pytest.mark.parametrize(("size", "signer"), [(0, OLD), (99, OLD), (100, NEW), (10**12, NEW)])
def test_each_size_is_signed_by_the_key_whose_window_holds_it(size: int, signer: Signer) -> None:
    assert Keyring.from_json(TWO_KEYS).signer_for(size).vkey == signer.vkey


def test_no_key_signs_a_negative_size() -> None:
    with pytest.raises(KeyringError, match="no signing key for tree size -1"):
        Keyring.from_json(TWO_KEYS).signer_for(-1)


def test_rotation_starts_a_new_key_at_a_size_and_leaves_history_to_the_old_one() -> None:
    rotated = Keyring.from_json(TWO_KEYS).rotate(NEWER, at_size=250)
    assert [(k.vkey, k.from_size, k.until_size) for k in rotated.public_keys()] == [
        (OLD.vkey, 0, 100),
        (NEW.vkey, 100, 250),
        (NEWER.vkey, 250, None),
    ]
    assert rotated.signer_for(249).vkey == NEW.vkey
    assert rotated.signer_for(250).vkey == NEWER.vkey


def test_a_checkpoint_before_the_rotation_opens_only_with_the_old_key() -> None:
    rotated = Keyring.from_json(TWO_KEYS).rotate(NEWER, at_size=250)
    checkpoint = Checkpoint(ORIGIN, 200, hashlib.sha256(b"root").digest())
    note = rotated.sign(checkpoint)
    assert open_checkpoint(note, [NEW.verifier], ORIGIN) == checkpoint
    with pytest.raises(NoteError, match="no verifiable signatures"):
        open_checkpoint(note, [NEWER.verifier, OLD.verifier], ORIGIN)


@pytest.mark.parametrize("at_size", [50, 100])
def test_rotation_cannot_reach_back_into_the_current_keys_window(at_size: int) -> None:
    with pytest.raises(KeyringError, match="must come after the current key's first size 100"):
        Keyring.from_json(TWO_KEYS).rotate(NEWER, at_size=at_size)


def test_a_keyring_written_as_json_loads_back_the_same(tmp_path: Path) -> None:
    rotated = Keyring.from_json(TWO_KEYS).rotate(NEWER, at_size=250)
    path = tmp_path / "keys.json"
    path.write_text(rotated.to_json(), encoding="utf-8")
    reloaded = keys_file(path)
    assert reloaded.public_keys() == rotated.public_keys()
    assert reloaded.signer_for(300).skey == NEWER.skey


def test_a_dev_keyring_has_one_open_key_from_size_zero() -> None:
    [key] = generate_dev_keyring(ORIGIN).public_keys()
    assert (key.name, key.from_size, key.until_size) == (ORIGIN, 0, None)
    assert key.covers(0)
    assert key.covers(10**9)


def test_no_printed_form_of_a_key_reveals_the_skey() -> None:
    keyring = Keyring.from_json(TWO_KEYS)
    seed_b64 = OLD.skey.split("+", 4)[-1]
    printed = [repr(keyring), str(keyring), repr(OLD), str(OLD), repr(SigningKey(OLD, 0))]
    printed += [str(SigningKey(OLD, 0)), repr(keyring.public_keys())]
    assert all(seed_b64 not in text and "PRIVATE" not in text for text in printed)
    assert OLD.vkey in repr(keyring)
