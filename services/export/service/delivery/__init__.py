"""Delivery and automatic redelivery of exports; verification by fetch-back is in
service/verification/.

Use cases (called by the servicer and by export creation):
- `send.deliver(db, config, export_id, destination_name, *, actor, now) -> Export`
- `send.redeliver(db, config, export_id, destination_name, *, actor, now) -> Export` (empty
  name: the export's own destination); both resend the signed directory already on disk, never
  regenerate.
- `retries.run_due(db, config, now)` runs due retries (workers/delivery.py, in the background).
The attempts are listed by service/queries.py (list_attempts).

Every attempt is a row in export.delivery_attempts and an audit event ("export.delivered" /
"export.delivery_failed"); every verification a row in export.verifications and an event
("export.verified" / "export.verification_failed"). While an attempt runs the export is
DELIVERING; success makes it DELIVERED; a failure returns it to the state it had (SIGNED, or
DELIVERED/VERIFIED when an older intact copy is still there) and schedules a retry with
exponential backoff and jitter; after RetryPolicy.max_failures it is FAILED with the reason."""
