"""Command-line start-up: wall seconds of everyday commands as a user runs them, against a bare interpreter.

Each command runs `--runs` times as a real process (`.venv/bin/optiinfra`, i.e. this interpreter's
`optiinfra` script); the JSON gives each one's median and its ratio to `python -c pass` measured in the same
run, interleaved, so a busy machine moves both. The catalog is read from a warm cache (one run first), as
every run after a user's first is. Goal: `--help` and `cloud catalog --json` ≤ 0.3 s.

Usage: python bench/bench_cli.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

OPTIINFRA = str(Path(sys.executable).with_name("optiinfra"))
COMMANDS: dict[str, list[str]] = {
    "bare python": [sys.executable, "-c", "pass"],
    "optiinfra --help": [OPTIINFRA, "--help"],
    "optiinfra cloud catalog --json": [OPTIINFRA, "cloud", "catalog", "--provider", "aws", "--json"],
    "optiinfra route": [OPTIINFRA, "route", "where can we save money?", "--json"],
}


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for command in COMMANDS.values():
        wall(command)  # warm: the OS file cache, the built catalog
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            times[name].append(wall(command))
    bare = statistics.median(times["bare python"])
    result = {
        name: {
            "median_s": round(statistics.median(samples), 3),
            "max_s": round(max(samples), 3),
            "ratio_to_bare_python": round(statistics.median(samples) / bare, 1),
        }
        for name, samples in times.items()
    }
    print(json.dumps({"runs": args.runs, "commands": result}, indent=2))


if __name__ == "__main__":
    main()
