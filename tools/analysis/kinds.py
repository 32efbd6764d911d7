"""The kinds of savings the engines find: names only, apart from the engines, so that a command line can
list them without loading numpy."""

from __future__ import annotations

from typing import Literal

Kind = Literal[
    "rightsize",
    "idle",
    "spot",
    "reserved",
    "off_hours",
    "unattached_volume",
    "volume_type",
    "old_snapshot",
    "idle_address",
    "bucket_tier",
]
MACHINE_KINDS: tuple[Kind, ...] = ("rightsize", "idle", "spot", "reserved", "off_hours")
# Of what an account holds besides machines (tools/analysis/storage.py).
STORAGE_KINDS: tuple[Kind, ...] = (
    "unattached_volume",
    "volume_type",
    "old_snapshot",
    "idle_address",
    "bucket_tier",
)
KINDS: tuple[Kind, ...] = MACHINE_KINDS + STORAGE_KINDS
# What each kind's recommendations are about.
RESOURCE_OF: dict[str, str] = {
    **dict.fromkeys(MACHINE_KINDS, "instance"),
    "unattached_volume": "volume",
    "volume_type": "volume",
    "old_snapshot": "snapshot",
    "idle_address": "address",
    "bucket_tier": "bucket",
}


def plural(noun: str) -> str:
    """ "volumes", "addresses": what a count of them is called."""
    return noun + ("es" if noun.endswith("s") else "s")
