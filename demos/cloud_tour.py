"""The simulator tour as a script: `python demos/cloud_tour.py [SEED] [SIZE]`."""

import sys

from rich.console import Console

from api.tour import run_cloud_tour

if __name__ == "__main__":
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    run_cloud_tour(seed, size, Console())
