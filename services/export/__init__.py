"""The export service: writes audit extracts as JSON Lines files and records their hashes."""
