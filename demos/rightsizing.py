"""Rightsizing, end to end: `python demos/rightsizing.py [normal|degrade] [SEED] [SIZE]`.

Downsizes over-provisioned instances whose projected latency stays within the rollout's quality guard
(the performance agent vetoes the others, with the projection), in monitored waves.
"""

import sys

from interpreter import use_project_interpreter

use_project_interpreter()

from api.rollouts import demo_main

if __name__ == "__main__":
    demo_main("rightsizing", sys.argv[1:])
