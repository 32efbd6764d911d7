"""Storage findings benchmark: unattached volumes, volume types, old snapshots and idle addresses over an
account of --volumes volumes and ten snapshots per volume (100,000 and 1,000,000 by default), and a tenth of
it, to show the growth.

Prints one JSON object; medians of --repeats runs, each next to a baseline measured in the same run: the same
rules written as a plain Python loop over the same models (a dict of each volume's snapshots, ranked by a
sort per volume). Both must flag the same resources. Building the inventory (what a cloud's listing returns)
is not timed: the engines' work is (selecting, then writing a recommendation for each flagged resource, the
same way in both).

Selecting what to flag is timed apart from the whole (selecting, then writing each recommendation).

Usage: python bench/bench_storage.py [--volumes 100000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import numpy as np
from timing import median_seconds

from tools.analysis.kinds import Kind
from tools.analysis.recommendation import Recommendation
from tools.analysis.settings import StorageSettings
from tools.analysis.storage import (
    StorageInventory,
    advise_idle_address,
    advise_old_snapshot,
    advise_unattached,
    select_idle_addresses,
    select_old_snapshots,
    select_unattached,
    storage_findings,
)
from tools.models import Address, Snapshot, Volume

NOW = datetime(2026, 6, 17, 6, tzinfo=UTC)
SNAPSHOTS_PER_VOLUME = 10


def account(volumes: int, seed: int = 7) -> StorageInventory:
    """A seeded account: a tenth of the volumes detached, weekly snapshots, an address per 20 volumes."""
    rng = np.random.default_rng(seed)
    types = np.array(["gp2", "gp3", "io1", "st1"])[rng.choice(4, volumes, p=[0.45, 0.4, 0.1, 0.05])]
    sizes = rng.integers(20, 2000, volumes)
    peak = rng.uniform(30, 9000, volumes)
    detached_days = rng.uniform(0, 400, volumes)
    available = rng.random(volumes) < 0.1
    gone = rng.random(volumes) < 0.05
    vols = [
        Volume.model_construct(
            id=f"vol-{k:017x}", provider="aws", region="us-east-1", volume_type=str(types[k]),
            size_gb=int(sizes[k]), iops=3000.0, throughput_mbps=125.0, provisioned_iops=0.0,
            provisioned_throughput_mbps=0.0, state="available" if available[k] else "in-use",
            attached_to=None if available[k] else f"i-{k:017x}", created_at=NOW - timedelta(days=500),
            last_attached_at=NOW - timedelta(days=float(detached_days[k])) if available[k] else None,
            modifiable_at=None, monthly_price=float(sizes[k]) * 0.1, iops_p99=float(peak[k]),
            throughput_p99_mbps=float(peak[k]) * 0.05, tags={"team": "data"},
        )
        for k in range(volumes)
    ]  # fmt: skip
    ages = rng.uniform(0, 700, volumes * SNAPSHOTS_PER_VOLUME)
    snaps = [
        Snapshot.model_construct(
            id=f"snap-{k:017x}", provider="aws", region="us-east-1",
            volume_id=vols[k // SNAPSHOTS_PER_VOLUME].id,
            volume_exists=not gone[k // SNAPSHOTS_PER_VOLUME], volume_size_gb=100, size_gb=10.0,
            state="completed", created_at=NOW - timedelta(days=float(ages[k])), recoverable_until=None,
            image_id=None,
            monthly_price=0.5, tags={"team": "data"},
        )
        for k in range(volumes * SNAPSHOTS_PER_VOLUME)
    ]  # fmt: skip
    addrs = [
        Address.model_construct(
            id=f"eipalloc-{k:017x}", provider="aws", region="us-east-1", public_ip="203.0.113.1",
            state="idle" if k % 3 == 0 else "in-use", attached_to=None, allocated_at=NOW - timedelta(days=90),
            idle_since=NOW - timedelta(days=float(k % 5)), released_at=None, monthly_price=3.65, tags={},
        )
        for k in range(volumes // 20)
    ]  # fmt: skip
    return StorageInventory(NOW, vols, snaps, addrs)


Flagged = tuple[str, Any, float, Any]  # (kind, resource, days or age, whether known or rank)


def select_in_python(inv: StorageInventory, s: StorageSettings) -> list[Flagged]:
    """The same rules one resource at a time (each volume's snapshots in a dict, ranked by a sort per
    volume): what is flagged, with what its advice is written from."""
    now = inv.now.timestamp()
    flagged: list[Flagged] = []
    for v in inv.volumes:
        days = (now - (v.last_attached_at or v.created_at).timestamp()) / 86400
        if v.state == "available" and days >= s.unattached_days:
            flagged.append(("volume", v, days, v.last_attached_at is not None))
    by_volume: dict[str, list[Snapshot]] = defaultdict(list)
    for snap in inv.snapshots:
        by_volume[snap.volume_id].append(snap)
    for taken in by_volume.values():
        taken.sort(key=lambda x: -x.created_at.timestamp())
        for rank, snap in enumerate(taken):
            age = (now - snap.created_at.timestamp()) / 86400
            cooling = "final-snapshot-of" in snap.tags and age <= s.cooling_off_days
            if age > s.snapshot_retention_days and not cooling and snap.image_id is None:
                if not snap.volume_exists or rank >= s.keep_latest_snapshots:
                    flagged.append(("snapshot", snap, age, rank))
    for a in inv.addresses:
        since = a.idle_since or a.allocated_at
        days = (now - since.timestamp()) / 86400 if since is not None else float("inf")
        if a.state == "idle" and days >= s.idle_address_days:
            flagged.append(("address", a, days, None))
    return flagged


def findings_in_python(inv: StorageInventory, s: StorageSettings) -> list[Recommendation]:
    """`select_in_python`, each flagged resource's recommendation written by the engines' own functions."""
    found: list[Recommendation | None] = []
    for kind, resource, days, extra in select_in_python(inv, s):
        if kind == "volume":
            found.append(advise_unattached(resource, days, extra, s))
        elif kind == "snapshot":
            found.append(advise_old_snapshot(resource, extra, days, s))
        else:
            found.append(advise_idle_address(resource, days))
    return [r for r in found if r is not None]


def select_in_engines(inv: StorageInventory, s: StorageSettings) -> int:
    return sum(
        len(select(inv, s)[0]) for select in (select_unattached, select_old_snapshots, select_idle_addresses)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    settings = StorageSettings()
    kinds: list[Kind] = ["unattached_volume", "old_snapshot", "idle_address"]
    result: dict[str, object] = {"snapshots_per_volume": SNAPSHOTS_PER_VOLUME, "repeats": args.repeats}
    for volumes in (args.volumes // 10, args.volumes):
        inv = account(volumes)
        engines = {r.instance_id: r.monthly_savings for r in storage_findings(inv, kinds, settings)}
        loop = {r.instance_id: r.monthly_savings for r in findings_in_python(inv, settings)}
        assert engines == loop, (
            f"the engines and the loop disagree on {len(set(engines) ^ set(loop))} resources"
        )
        engine_s = median_seconds(partial(storage_findings, inv, kinds, settings), args.repeats)
        loop_s = median_seconds(partial(findings_in_python, inv, settings), args.repeats)
        select_s = median_seconds(partial(select_in_engines, inv, settings), args.repeats)
        select_loop_s = median_seconds(partial(select_in_python, inv, settings), args.repeats)
        type_s = median_seconds(partial(storage_findings, inv, ["volume_type"], settings), args.repeats)
        result[f"{volumes}_volumes"] = {
            "snapshots": len(inv.snapshots),
            "addresses": len(inv.addresses),
            "flagged": len(engines),
            "select_engines_s": round(select_s, 3),
            "select_python_loop_s": round(select_loop_s, 3),
            "select_loop_over_engines": round(select_loop_s / select_s, 2),
            "engines_s": round(engine_s, 3),
            "python_loop_s": round(loop_s, 3),
            "loop_over_engines": round(loop_s / engine_s, 2),
            "volume_type_s": round(type_s, 3),
        }
    small, large = (result[f"{n}_volumes"] for n in (args.volumes // 10, args.volumes))
    assert isinstance(small, dict) and isinstance(large, dict)
    result["growth_10x_engines"] = round(large["engines_s"] / small["engines_s"], 2)
    result["growth_10x_select_engines"] = round(large["select_engines_s"] / small["select_engines_s"], 2)
    result["growth_10x_loop"] = round(large["python_loop_s"] / small["python_loop_s"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
