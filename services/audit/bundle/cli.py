"""`tradeops audit export-bundle` and `tradeops audit verify-bundle`.

    tradeops audit export-bundle DIR [--from-seq A] [--to-seq B] [--progress]
    tradeops audit verify-bundle DIR [--progress]

export-bundle reads the audit service at TRADEOPS_AUDIT_ADDR (default 127.0.0.1:50054) with the
bearer token in TRADEOPS_TOKEN (compliance or admin), each call bounded by
TRADEOPS_RPC_TIMEOUT_S. verify-bundle needs nothing but the bundle. Exit status: 0 verified or
exported, 1 failed, 2 unusable arguments or an incomplete bundle."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping
from functools import partial
from pathlib import Path

import grpc

from runtime.clients import open_channel
from runtime.progress import Progress
from runtime.settings import peer_addresses
from services.audit.bundle.clients.audit import AuditReader
from services.audit.bundle.domain.layout import BundleFailure, UsageError
from services.audit.bundle.service.exporting import export_bundle
from services.audit.bundle.service.verifying import verify_bundle
from tradeops.audit.v1 import audit_service_pb2_grpc as pb_grpc


def add_audit_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser("audit", help="export and verify audit log bundles")
    actions = audit.add_subparsers(required=True)
    export = actions.add_parser("export-bundle", help="write a verifiable bundle of the log")
    export.add_argument("dir", type=Path, help="a new or empty directory")
    export.add_argument("--from-seq", type=int, default=0, help="first seq (default 0)")
    export.add_argument("--to-seq", type=int, default=None, help="last seq (default: all)")
    export.add_argument("--progress", action="store_true", help="progress bar even off a TTY")
    export.set_defaults(run=run_export)
    verify = actions.add_parser("verify-bundle", help="verify a bundle offline")
    verify.add_argument("dir", type=Path)
    verify.add_argument("--progress", action="store_true", help="progress bar even off a TTY")
    verify.add_argument(
        "--trusted-key",
        action="append",
        default=[],
        metavar="VKEY",
        help="a verifier key obtained independently (from the SIEM or the published keys); "
        "the checkpoint must be signed by one of them, not merely by a key in keys.json",
    )
    verify.set_defaults(run=run_verify)


def run_verify(args: argparse.Namespace) -> int:
    try:
        outcome = verify_bundle(args.dir, partial(_bar, args.progress), args.trusted_key)
    except UsageError as exc:
        print(f"tradeops: {exc}", file=sys.stderr)
        return 2
    except BundleFailure as failure:
        print(failure.report())
        return 1
    print(outcome.report())
    return 0


def run_export(args: argparse.Namespace) -> int:
    return asyncio.run(export(args, os.environ))


async def export(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    token = env.get("TRADEOPS_TOKEN", "")
    if not token:
        print("tradeops: set TRADEOPS_TOKEN to a compliance or admin token", file=sys.stderr)
        return 2
    timeout_s = float(env.get("TRADEOPS_RPC_TIMEOUT_S", "5"))
    address = peer_addresses(env)["audit"]
    try:
        async with open_channel(address, "audit") as channel:
            reader = AuditReader(pb_grpc.AuditServiceStub(channel), token, timeout_s)
            seqs = (args.from_seq, args.to_seq)
            info = await export_bundle(reader, args.dir, seqs, partial(_bar, args.progress))
    except UsageError as exc:
        print(f"tradeops: {exc}", file=sys.stderr)
        return 2
    except grpc.aio.AioRpcError as exc:
        print(
            f"tradeops: audit service at {address}: {exc.code().name}: {exc.details()}",
            file=sys.stderr,
        )
        return 1
    print(
        f"exported {info.records} records [{info.from_seq}, {info.to_seq}] of tree size "
        f"{info.tree_size} to {args.dir}"
    )
    return 0


def _bar(forced: bool, total: int) -> Progress:
    return Progress(total, sys.stderr, force=forced)
