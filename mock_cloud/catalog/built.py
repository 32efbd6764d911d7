"""The built catalog, kept on disk between processes.

Building the catalog means importing libcloud's size tables and deriving every type's regional prices: about
a third of a second, paid by every command that prices something, although the result changes only when our
catalog code or libcloud's data does. So the first build is written as JSON to the user's cache directory
under a key made of exactly those inputs, and later processes read it back. A cache that cannot be written
(a read-only home) or read (truncated, another version's) costs a rebuild, never a wrong price.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from mock_cloud.catalog.model import Category, InstanceType, InterruptionBand
from mock_cloud.clouds import PROVIDERS

CACHE_DIR_VARIABLE = "OPTIINFRA_CACHE_DIR"
_SOURCES = Path(__file__).parent
# libcloud's files the catalog is built from: their size and modification time stand for their contents.
_LIBCLOUD_INPUTS = (("data", "pricing.json"), ("compute", "constants", "ec2_instance_types.py"))


def cache_dir() -> Path:
    """$OPTIINFRA_CACHE_DIR, else $XDG_CACHE_HOME/optiinfra, else ~/.cache/optiinfra."""
    if chosen := os.environ.get(CACHE_DIR_VARIABLE):
        return Path(chosen)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "optiinfra"


def cache_path() -> Path:
    digest = hashlib.sha256()
    for source in sorted(_SOURCES.glob("*.py")):
        digest.update(source.name.encode() + source.read_bytes())
    spec = importlib.util.find_spec("libcloud")  # finds the package without importing it
    for location in (spec.submodule_search_locations or []) if spec else []:
        for parts in _LIBCLOUD_INPUTS:
            stat = Path(location, *parts).stat()
            digest.update(f"{'/'.join(parts)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return cache_dir() / f"catalog-{digest.hexdigest()[:20]}.json"


def read_built(path: Path) -> list[InstanceType] | None:
    """The types cached at `path`, or None when there is no usable cache there."""
    try:
        rows = json.loads(path.read_bytes())
        return [_instance_type(row) for row in rows]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_built(path: Path, types: list[InstanceType]) -> None:
    """Write atomically (a reader never sees half a file); a directory we cannot write is not an error."""
    rows = [_row(t) for t in types]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as handle:
            json.dump(rows, handle, separators=(",", ":"))
        os.replace(handle.name, path)
    except OSError:
        return


def _row(t: InstanceType) -> dict[str, object]:
    return {
        "provider": t.provider,
        "name": t.name,
        "family": t.family,
        "category": t.category.value,
        "vcpus": t.vcpus,
        "memory_gb": t.memory_gb,
        "gpu_count": t.gpu_count,
        "on_demand": dict(t.on_demand),
        "spot": dict(t.spot),
        "reserved": dict(t.reserved),
        "interruption_band": t.interruption_band.value,
        "estimated_regions": sorted(t.estimated_regions),
        "architecture": t.architecture,
    }


def _instance_type(row: dict[str, Any]) -> InstanceType:
    if row["provider"] not in PROVIDERS:
        raise ValueError(f"not a provider: {row['provider']!r}")
    return InstanceType(
        provider=row["provider"],
        name=row["name"],
        family=row["family"],
        category=Category(row["category"]),
        vcpus=row["vcpus"],
        memory_gb=row["memory_gb"],
        gpu_count=row["gpu_count"],
        on_demand=row["on_demand"],
        spot=row["spot"],
        reserved=row["reserved"],
        interruption_band=InterruptionBand(row["interruption_band"]),
        estimated_regions=frozenset(row["estimated_regions"]),
        architecture="arm64" if row["architecture"] == "arm64" else "x86_64",
    )
