"""A spot migration, end to end: `python demos/spot_migration.py [normal|degrade] [SEED] [SIZE]`.

Plans from the analysis, has the performance, resource and application agents review it, approves,
rolls out in waves of 10 %, 50 % and 100 % while watching quality, and prints the report. With
`degrade`, quality breaks from wave 2 on and every change is rolled back.
"""

import sys

from interpreter import use_project_interpreter

use_project_interpreter()

from api.rollouts import demo_main

if __name__ == "__main__":
    demo_main("spot_migration", sys.argv[1:])
