"""Numbers fixed by their names: the same in every process and every run (Python's own `hash` is salted per
process). Apart from `noise` so that the catalog can use them without numpy."""

from __future__ import annotations

import hashlib


def stable_unit(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by `parts` (Python's own `hash` is salted per process)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2.0**64


def stable_int(*parts: object) -> int:
    """A 63-bit integer fixed by `parts`."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1
