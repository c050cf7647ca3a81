"""Transparency log for the evidence domain: RFC 9162 Merkle trees and C2SP formats.

Pure library code (no database, no server):

* :mod:`.merkle` — RFC 9162 hashing, proof generation over a node store, verification.
* :mod:`.note` — C2SP signed notes with Go ``sumdb/note`` key strings (Ed25519).
* :mod:`.sm2` — optional SM2/SM3 signature type for notes (needs ``gmssl``).
* :mod:`.checkpoint` — C2SP tlog-checkpoint bodies.
* :mod:`.proof` — C2SP tlog-proof@v1 receipts.
* :mod:`.tiles` — C2SP tlog-tiles paths, tiles and entry bundles.
* :mod:`.offline` — build / verify / audit helpers shared by the CLI and services.
* :mod:`.cli` — the ``tlog`` click group.
"""
