"""Off-hours findings benchmark: what the off-hours kind adds to a ledger read, in process and over the
simulator's HTTP API, at two fleet sizes.

The off-hours engine is the one that reads an hourly series per candidate (each running non-production
machine), where every other machine engine reads two fleet-wide summaries. Baseline, measured in the same
run on the same simulator: the ledger of every other machine kind. Also timed apart: reading the series
(what the provider does) and the engine over series already read.

Prints one JSON object; medians of --repeats runs.

Usage: python bench/bench_off_hours.py [--sizes 600,6000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from timing import median_seconds  # noqa: E402

from mock_cloud import CloudSimulator  # noqa: E402
from tests.conftest import serve_simulator  # noqa: E402
from tools.adapters.http import SimulatorHttpProvider  # noqa: E402
from tools.adapters.simulator import SimulatorProvider  # noqa: E402
from tools.analysis.kinds import MACHINE_KINDS  # noqa: E402
from tools.analysis.ledger import read_ledger  # noqa: E402
from tools.analysis.off_hours import candidates, off_hours  # noqa: E402
from tools.analysis.settings import OffHoursSettings  # noqa: E402
from tools.provider import CloudProvider  # noqa: E402

OTHERS = [k for k in MACHINE_KINDS if k != "off_hours"]


def measure(cloud: CloudProvider, repeats: int) -> dict[str, float | int]:
    settings = OffHoursSettings()
    running = cloud.list_instances()
    chosen = candidates(running, settings)
    series = {i.id: cloud.metrics(i.id, settings.lookback_hours) for i in chosen}
    found = off_hours(running, series, cloud.now(), settings)
    without = median_seconds(lambda: read_ledger(cloud, kinds=OTHERS), repeats)
    with_it = median_seconds(lambda: read_ledger(cloud, kinds=MACHINE_KINDS), repeats)
    reading = median_seconds(lambda: [cloud.metrics(i.id, settings.lookback_hours) for i in chosen], repeats)
    engine = median_seconds(lambda: off_hours(running, series, cloud.now(), settings), repeats)
    return {
        "candidates": len(chosen),
        "found": len(found),
        "ledger_without_s": round(without, 3),
        "ledger_with_s": round(with_it, 3),
        "ratio": round(with_it / without, 2),
        "reading_series_s": round(reading, 3),
        "engine_s": round(engine, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="600,6000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out: dict[str, object] = {"repeats": args.repeats}
    for size in (int(s) for s in args.sizes.split(",")):
        out[f"in_process_{size}"] = measure(SimulatorProvider(CloudSimulator(7, size)), args.repeats)
        with serve_simulator(7, size) as url:
            out[f"http_{size}"] = measure(SimulatorHttpProvider(url), args.repeats)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
