"""A small audit log made by the audit service's own domain code (sequencing, leaf hashes, the
Merkle tree, proofs, keyring and signed checkpoints), read as the REST JSON the gateway serves
(grpc_api.messages to the message, gateway.rest_json to JSON): what verify.js checks, without
PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.rest_json import to_rest
from services.audit.log.domain.checkpoints.format import Checkpoint, sign_checkpoint
from services.audit.log.domain.keyring import Keyring
from services.audit.log.domain.merkle.hashing import NodeId, append_nodes, root_from
from services.audit.log.domain.merkle.proofs import inclusion_proof
from services.audit.log.domain.note import Signer
from services.audit.log.domain.records import GENESIS, Actor, Event, Head, Record, sequence
from services.audit.log.grpc_api import messages
from tradeops.audit.v1 import audit_service_pb2 as pb


def event(number: int, target: str, microsecond: int, **changes: str) -> Event:
    fields: dict[str, Any] = {
        "event_id": f"00000000-0000-4000-8000-{number:012d}",
        "occurred_at": datetime(2026, 12, 6, 9, 30, number, microsecond, tzinfo=UTC),
        "actor": Actor("olga", ("ops", "viewer"), "human", "", "equities"),
        "action": "agent.incident.created",
        "target": target,
        "outcome": "success",
        "trace_id": f"{number:032x}",
        "source": "agent",
        "payload_json": f'{{"n":{number}}}',
    }
    return Event(**{**fields, **changes})


@dataclass(frozen=True)
class SignedLog:
    origin: str
    keyring: Keyring
    records: list[Record]
    nodes: dict[NodeId, bytes]

    @classmethod
    def of(cls, events: Sequence[Event], keyring: Keyring, origin: str) -> SignedLog:
        records = sequence(Head(0, GENESIS), events, {}).records
        nodes, _ = append_nodes(0, {}, [bytes.fromhex(r.leaf_hash) for r in records])
        return cls(origin, keyring, records, nodes)

    @property
    def size(self) -> int:
        return len(self.records)

    def record(self, seq: int) -> dict[str, Any]:
        return to_rest(messages.record(self.records[seq]))

    def proof(self, seq: int, size: int) -> dict[str, Any]:
        hashes = inclusion_proof(seq, size, self.nodes)
        return to_rest(
            pb.InclusionProof(
                seq=seq,
                tree_size=size,
                leaf_hash=self.records[seq].leaf_hash,
                proof=[node.hex() for node in hashes],
                root_hash=root_from(size, self.nodes).hex(),
            )
        )

    def checkpoint(self, size: int) -> Checkpoint:
        return Checkpoint(self.origin, size, root_from(size, self.nodes))

    def note(self, size: int, signer: Signer | None = None) -> str:
        if signer is None:
            return self.keyring.sign(self.checkpoint(size))
        return sign_checkpoint(self.checkpoint(size), signer)

    def keys(self) -> dict[str, Any]:
        public = [messages.public_key(key) for key in self.keyring.public_keys()]
        return to_rest(pb.ListPublicKeysResponse(keys=public, origin=self.origin))

    def inputs(self, seq: int, size: int) -> dict[str, Any]:
        """verifyRecord's input as verify-page.js builds it from the REST replies."""
        proof, keys = self.proof(seq, size), self.keys()
        return {
            "record": self.record(seq),
            "index": seq,
            "treeSize": proof["tree_size"],
            "leafHashHex": proof["leaf_hash"],
            "proof": proof["proof"],
            "checkpointNote": self.note(size),
            "publicKeys": keys["keys"],
            "origin": keys["origin"],
        }
