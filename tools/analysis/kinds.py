"""The kinds of savings the engines find: names only, apart from the engines, so that a command line can
list them without loading numpy."""

from __future__ import annotations

from typing import Literal

Kind = Literal["rightsize", "idle", "spot", "reserved"]
KINDS: tuple[Kind, ...] = ("rightsize", "idle", "spot", "reserved")
