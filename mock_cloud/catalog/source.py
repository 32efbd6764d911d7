"""apache-libcloud's bundled price data, read from the installed package (no network)."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any


@functools.cache
def compute_prices() -> dict[str, Any]:
    """The `compute` section of libcloud/data/pricing.json."""
    text = resources.files("libcloud").joinpath("data", "pricing.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)["compute"]
    return data
