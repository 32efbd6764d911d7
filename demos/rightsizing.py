"""Rightsizing, end to end: `python demos/rightsizing.py [normal|degrade] [SEED] [SIZE]`.

Downsizes over-provisioned instances whose projected latency stays within the rollout's quality guard
(the performance agent vetoes the others, with the projection), in monitored waves.
"""

import sys

from rich.console import Console

from api.rollouts import print_report, run_rollout_demo

if __name__ == "__main__":
    scenario = sys.argv[1] if len(sys.argv) > 1 else "normal"
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 600
    console = Console()
    report = run_rollout_demo(
        "rightsizing", seed, size, "degrade" if scenario == "degrade" else "normal", console
    )
    print_report(report, console)
