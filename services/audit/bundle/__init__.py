"""Audit bundles: a directory an outside auditor can verify with no access to the live system.

records.jsonl   one canonical JSON object per record, in seq order
checkpoint.txt  the signed checkpoint (C2SP signed note) of tree size N, byte for byte
keys.json       the log's origin and the public keys, each with its window of tree sizes
proofs.jsonl    only for a partial range: each record's inclusion proof in the tree of size N
bundle.json     format version, origin, tree size, seq range, record count; written last,
                so a bundle whose export was interrupted is visibly incomplete
"""
