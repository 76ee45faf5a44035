"""Verifying exports: directory.py checks an export's directory offline (the service and
`tradeops export verify` alike), fetch_back.py verifies a delivered copy by fetching it back,
batch.py verifies many at once."""
