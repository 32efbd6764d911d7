"""Figures the console reads from the cloud, kept a little while: the bill's breakdowns and the ledger of a
10,000-machine fleet take a second or two to compute, and they change only as the cloud's clock moves. A
figure is kept for `seconds` of wall time and only for the cloud moment (to the minute) it was read at; two
requests wanting the same figure at once compute it once."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from tools.analysis.budgets import Budget, BudgetStatus, status
from tools.analysis.ledger import Ledger, read_ledger
from tools.analysis.recommendation import Kind
from tools.models import InstanceFilter
from tools.provider import CloudProvider

T = TypeVar("T")


class Memo:
    """Kept figures; `ledger` and `budget_statuses` are the one way pages read those, so the pages that show
    the same figure share one computation."""

    def __init__(self, cloud: CloudProvider, seconds: float = 60.0, size: int = 128) -> None:
        self.cloud = cloud
        self.seconds = seconds
        self.size = size
        self._kept: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._busy: dict[Hashable, asyncio.Lock] = {}

    async def moment(self) -> datetime:
        """The cloud's time, to the minute: what the figures are keyed by."""
        now = await asyncio.to_thread(self.cloud.now)
        return now.replace(second=0, microsecond=0)

    async def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The figure `compute` makes (in a worker thread), as kept for this cloud minute when fresh."""
        key = (key, await self.moment())
        async with self._busy.setdefault(key, asyncio.Lock()):
            kept = self._kept.get(key)
            if kept is not None and time.monotonic() - kept[0] < self.seconds:
                self._kept.move_to_end(key)
                value: T = kept[1]
                return value
            value = await asyncio.to_thread(compute)
            self._kept[key] = (time.monotonic(), value)
            while len(self._kept) > self.size:
                old, _ = self._kept.popitem(last=False)
                self._busy.pop(old, None)
            return value

    async def budget_statuses(self, budgets: Iterable[Budget]) -> list[BudgetStatus]:
        """Each budget's standing (read only: recording crossed thresholds is the FinOps check's)."""
        return list(
            await asyncio.gather(
                *(self.get(("budget", b.model_dump_json()), partial(status, self.cloud, b)) for b in budgets)
            )
        )

    async def ledger(self, scope: InstanceFilter, kinds: Iterable[Kind]) -> Ledger:
        """The ledger of a part of the fleet, for some kinds (kept like any figure)."""
        chosen = sorted(set(kinds))
        key = ("ledger", scope.model_dump_json(), tuple(chosen))
        return await self.get(key, lambda: read_ledger(self.cloud, scope, chosen))
