"""A spot migration, end to end: `python demos/spot_migration.py [normal|degrade] [SEED] [SIZE]`.

Plans from the analysis, has the performance, resource and application agents review it, approves,
rolls out in waves of 10 %, 50 % and 100 % while watching quality, and prints the report. With
`degrade`, quality breaks from wave 2 on and every change is rolled back.
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
        "spot_migration", seed, size, "degrade" if scenario == "degrade" else "normal", console
    )
    print_report(report, console)
