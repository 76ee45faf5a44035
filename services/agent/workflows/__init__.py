"""Triggers: versioned rules on audit events that start one workflow step each (see
WIRING.md and protos/tradeops/agent/v1/trigger_service.proto)."""
