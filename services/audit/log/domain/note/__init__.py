"""Signed notes (c2sp.org/signed-note) with Ed25519 keys, read as golang.org/x/mod/sumdb/note does.

`sign` and `open_note` are the seam: a note that `open_note` returns has at least one signature
verified by a known key; every refusal (of a note or of a key string) is a `NoteError` whose
`reason` says which kind. keys.py holds the keys, signatures.py the note lines, outcomes.py what
opening gives.
"""

from services.audit.log.domain.note.keys import Signer, Verifier, key_id
from services.audit.log.domain.note.outcomes import NoteError, Opened, Reason, Signature
from services.audit.log.domain.note.signatures import open_note, sign

__all__ = [
    "NoteError",
    "Opened",
    "Reason",
    "Signature",
    "Signer",
    "Verifier",
    "key_id",
    "open_note",
    "sign",
]
