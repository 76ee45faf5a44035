"""Compliance automation and audit summaries: versioned checks over the ops, audit and export
contracts, run on a durable schedule and on demand, and audit-log summaries with their
provenance. See WIRING.md for how the agent process serves them."""
