"""The clouds the simulator speaks for, and the largest fleet it makes: plain names and numbers, apart from
the machinery, so that a command line can show them without loading the simulator."""

from __future__ import annotations

from typing import Literal

Provider = Literal["aws", "gcp", "azure"]
PROVIDERS: tuple[Provider, ...] = ("aws", "gcp", "azure")
MAX_FLEET_SIZE = 200_000
