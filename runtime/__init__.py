"""Shared runtime for every tradeops process: settings, database, gRPC bootstrap, auth,
telemetry and the outbox relay. Holds no domain logic."""
