"""The agent service: incident intake, deterministic rule-based triage, remediation proposals."""
