"""The audit service: the single writer of the tamper-evident, hash-chained audit log."""
