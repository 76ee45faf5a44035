"""Request models by resource area, beside gateway.routes: each area's bodies and query
strings in bodies/<area>.py, what they share in bodies/base.py."""
