"""The clouds the simulator speaks for, its default fleet and the largest fleet it makes: plain names and
numbers, apart from the machinery, so that a command line can show them without loading the simulator."""

from __future__ import annotations

from typing import Literal

Provider = Literal["aws", "gcp", "azure"]
PROVIDERS: tuple[Provider, ...] = ("aws", "gcp", "azure")
MAX_FLEET_SIZE = 200_000

# One default fleet for every way in (CLI, chat, service, demos, the simulator's own server), so a figure
# quoted by one of them can be checked with another without remembering which seed each one picks.
DEFAULT_SEED = 7
DEFAULT_SIZE = 600
