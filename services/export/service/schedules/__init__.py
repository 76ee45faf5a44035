"""Scheduled exports: editing.py puts, lists and deletes schedules (each change audited), runs.py
runs the due ones as exports (claiming, catch-up and retry policy)."""
