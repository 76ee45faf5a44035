"""Remediation: versioned playbooks (data in playbooks/*.json) turn a triage decision into
actions with dry-run predictions, proposed to ops; after ops' approval the execution worker runs
them through an executor (an HMAC-signed webhook or the simulator) and reports back to ops.
How to wire it into the agent process: WIRING.md beside this file."""
