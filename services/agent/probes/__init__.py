"""Scheduled probes: versioned definitions of an HTTP health or metrics check of a desk system,
run from durable schedule rows, opening (and folding, and recovering) one incident per failing
spell through the agent's own intake. See WIRING.md."""
