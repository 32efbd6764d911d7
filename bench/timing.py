"""What every benchmark measures with: the median wall time of a few runs."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable


def median_seconds(run: Callable[[], object], repeats: int, collect: bool = False) -> float:
    """The median of `repeats` timed runs of `run`; with `collect`, each after a garbage collection, so that
    one run's garbage is not collected on the next one's time."""
    timings = []
    for _ in range(repeats):
        if collect:
            gc.collect()
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)
