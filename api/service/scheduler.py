"""The FinOps loop on a schedule, run by exactly one replica at a time: the holder of the `finops` lease.

Every tick the holder watches approval deadlines, retries the notifications that are due and keeps the
off-hours schedules (a machine stopped or started at each boundary its tag names); every
`finops_seconds` it also checks budgets and cost anomalies, the first time a minute after it took the duty
(a replica starting lets its own start settle before reading 90 days of the bill). A replica that dies
stops renewing the lease and another takes the duty over once it expires. Whichever replica checks, the
database decides what is new (one alert per threshold per period, one per anomaly), so a handover sends
nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from graphs.finops import FinOps
from graphs.service_store import ServiceStore

log = logging.getLogger("optiinfra.scheduler")
LEASE = "scheduler:finops"


class Scheduler:
    def __init__(
        self,
        finops: FinOps,
        leases: ServiceStore,
        owner: str,
        tick_seconds: float,
        finops_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        first_check_seconds: float = 60.0,
    ) -> None:
        self.finops = finops
        self.leases = leases
        self.owner = owner
        self.tick_seconds = tick_seconds
        self.finops_seconds = finops_seconds
        self.clock = clock
        self.first_check_seconds = first_check_seconds
        self.next_check: float | None = None  # when this replica checks budgets and anomalies next

    @property
    def lease_seconds(self) -> float:
        """Long enough to survive a slow tick or two; short enough for a quick handover."""
        return max(3 * self.tick_seconds, 30.0)

    async def tick(self) -> bool:
        """Do the duty if this replica holds (or takes) the lease; False when another replica does."""
        if not await self.leases.acquire_lease(LEASE, self.owner, self.lease_seconds):
            self.next_check = None  # should the duty come back here, it starts over
            return False
        await self.finops.watch_approvals()
        await self.finops.notifier.deliver_due()
        await self.finops.keep_schedules()
        now = self.clock()
        if self.next_check is None:
            self.next_check = now + self.first_check_seconds
        if now >= self.next_check:
            self.next_check = now + self.finops_seconds
            checked = await self.finops.check_budgets()
            found = await self.finops.check_anomalies()
            log.info("finops check: %d budget(s), %d new threshold(s), %d new anomal(y/ies)",
                     len(checked), sum(len(c.new) for c in checked), len(found.opened))  # fmt: skip
        return True

    async def run_forever(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a database or cloud hiccup must not end the schedule for good
                log.exception("scheduled check failed; trying again in %.0f s", self.tick_seconds)
            await asyncio.sleep(self.tick_seconds)

    async def close(self) -> None:
        """Hand the duty over at once (another replica takes it on its next tick)."""
        await self.leases.release_lease(LEASE, self.owner)
