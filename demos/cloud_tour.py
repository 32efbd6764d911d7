"""The simulator tour as a script: `python demos/cloud_tour.py [SEED] [SIZE]`."""

import sys

from interpreter import use_project_interpreter

use_project_interpreter()

from rich.console import Console

from api.tour import run_cloud_tour
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE

if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SEED
    size = int(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_SIZE
    run_cloud_tour(seed, size, Console())
