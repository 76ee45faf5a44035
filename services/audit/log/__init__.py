"""The audit log: the single writer of the tamper-evident, hash-chained log of records, its
Merkle tree, signed checkpoints and their keys, proofs and verification.

The other contexts of the service use it only through the names below: SIEM forwarding reads
pages of records (in its own transaction) to send them on; offline bundles re-check records,
proofs and signed checkpoints with the very rules the log uses; `tradeops deploy init`
(services/deploy.py) makes a deployment's checkpoint keyring."""

from services.audit.log.domain.checkpoints.format import Checkpoint, open_checkpoint
from services.audit.log.domain.keyring import PublicKey
from services.audit.log.domain.merkle.proofs import ProofError, verify_inclusion
from services.audit.log.domain.note import NoteError, Reason, Verifier
from services.audit.log.domain.records import (
    Actor,
    Event,
    Record,
    payload_sha256,
    record_hash,
    rfc3339,
)
from services.audit.log.domain.verification import ChainVerifier, SignedRoot, Trust, Verdict
from services.audit.log.repository.records import page as read_records
from services.audit.log.service.keyring import create_keyring

__all__ = [
    "Actor",
    "ChainVerifier",
    "Checkpoint",
    "Event",
    "NoteError",
    "ProofError",
    "PublicKey",
    "Reason",
    "Record",
    "SignedRoot",
    "Trust",
    "Verdict",
    "Verifier",
    "create_keyring",
    "open_checkpoint",
    "payload_sha256",
    "read_records",
    "record_hash",
    "rfc3339",
    "verify_inclusion",
]
