"""What every adapter over a cloud's own API shares: its clock, waiting by polling, paging by slicing, catalog
prices for the machines it lists, utilisation summarised from per-machine hourly series, and cost breakdowns
assembled from a bill's rows."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

import numpy as np

from mock_cloud import SimulatorError
from mock_cloud.catalog import Catalog, load_catalog
from tools.errors import (
    ApplicationNotFoundError,
    IncorrectStateError,
    InstanceNotFoundError,
    InvalidRequestError,
    ProviderUnavailableError,
    from_cloud_code,
)
from tools.models import (
    REPLACES_TAG,
    STABLE_STATES,
    CostBreakdown,
    CostGroup,
    Instance,
    InstanceFilter,
    InstancePage,
    InstanceTypeOffer,
    Migration,
    PricingModel,
    UtilisationSummary,
)


class ServerClock:
    """The cloud's time: the `Date` header of its latest answer plus the time since (as SDKs correct clock
    skew), so a cloud whose clock differs from ours, a simulator's included, is asked about its own now."""

    def __init__(self) -> None:
        self._offset: float | None = None

    @property
    def known(self) -> bool:
        return self._offset is not None

    def observe(self, date: str | None) -> None:
        if not date:
            return
        try:
            moment = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            return
        self._offset = moment.timestamp() - time.time()

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(time.time() + (self._offset or 0.0), UTC)


class PolledCloud:
    """A cloud reached through its own API, whose changes finish later: polled every `poll_seconds`, waited
    for with `sleep`. Its time is `clock`'s, or (without one) what the Date headers of its answers say, fed
    to `server_clock`. Sizes and list prices come from the catalog; starting and stopping check the state
    first (idempotent by state), then `_begin_start` / `_begin_stop` ask the cloud."""

    name: str
    account: str  # what one adapter reaches, for messages: "an AWS account", "a GCP project"…

    def __init__(
        self,
        *,
        clock: Callable[[], datetime] | None,
        sleep: Callable[[float], None],
        poll_seconds: float,
        catalog: Catalog | None = None,
    ) -> None:
        self._catalog = catalog or load_catalog()
        self.server_clock = ServerClock()
        self._clock = clock or self.server_clock
        self._clock_given = clock is not None
        self._sleep = sleep
        self._poll_seconds = poll_seconds

    def now(self) -> datetime:
        if not self._clock_given and not self.server_clock.known:
            self.list_instances()  # any answer carries the cloud's time
        return self._clock()

    def list_instances(self, filters: InstanceFilter | None = None) -> list[Instance]:
        raise NotImplementedError

    def get_instance(self, instance_id: str) -> Instance:
        raise NotImplementedError

    def _begin_start(self, inst: Instance, idempotency_key: str) -> None:
        raise NotImplementedError

    def _begin_stop(self, inst: Instance, idempotency_key: str) -> None:
        raise NotImplementedError

    def instance_types(self, provider: str, region: str | None = None) -> list[InstanceTypeOffer]:
        if provider != self.name:
            raise InvalidRequestError(
                f"this is {self.account}; unknown provider '{provider}'", provider=self.name
            )
        try:
            offers = self._catalog.offerings(self.name, region)
        except SimulatorError as exc:  # the catalog refuses an unknown region in the simulator's words
            raise from_cloud_code(exc.code, exc.message, self.name) from exc
        return [InstanceTypeOffer.model_validate(o.to_dict()) for o in offers]

    def start(self, instance_id: str, idempotency_key: str) -> Instance:
        return self._switch(
            instance_id, idempotency_key, self._begin_start, "started", "stopped", ("pending", "running")
        )

    def stop(self, instance_id: str, idempotency_key: str) -> Instance:
        return self._switch(
            instance_id, idempotency_key, self._begin_stop, "stopped", "running", ("stopping", "stopped")
        )

    def _switch(
        self,
        instance_id: str,
        key: str,
        begin: Callable[[Instance, str], None],
        verb: str,
        source: str,
        done: tuple[str, ...],
    ) -> Instance:
        """Start or stop, idempotent by state: a machine already on its way there is left alone, one in any
        other state than `source` is refused, and `begin` asks the cloud only for a real change."""
        inst = self.get_instance(instance_id)
        if inst.state in done:
            return inst
        if inst.state != source:
            raise IncorrectStateError(
                f"{instance_id} cannot be {verb} while {inst.state}", provider=self.name
            )
        begin(inst, key)
        return self.get_instance(instance_id)

    def _members(self, application: str) -> list[Instance]:
        """An application's machines (its `application` tag or label); none is an unknown application."""
        members = self.list_instances(InstanceFilter(application=application))
        if not members:
            raise ApplicationNotFoundError(
                f"no instance is tagged application={application}", provider=self.name
            )
        return members

    def page_instances(
        self, filters: InstanceFilter | None = None, offset: int = 0, limit: int = 100
    ) -> InstancePage:
        # The clouds page with tokens, not offsets: the whole listing is read and sliced.
        found = self.list_instances(filters)
        return InstancePage(total=len(found), instances=found[offset : offset + limit])

    def wait_until_stable(self, instance_id: str, timeout: float = 600.0) -> Instance:
        deadline = time.monotonic() + timeout
        while True:
            inst = self.get_instance(instance_id)
            if inst.state in STABLE_STATES:
                return inst
            if time.monotonic() > deadline:
                raise ProviderUnavailableError(
                    f"{instance_id} did not settle within {timeout} s", provider=self.name
                )
            self._sleep(self._poll_seconds)

    def sleep_until(self, moment: datetime) -> datetime:
        remaining = (moment - self.now()).total_seconds()
        if remaining > 0:
            self._sleep(remaining)
        return self.now()


class ForgettingCloud(PolledCloud):
    """A cloud that forgets a machine once deleted (Azure, Compute Engine), where a migration creates the
    replacement under a name and a label derived from its idempotency key, then deletes the original."""

    def terminate(self, instance_id: str, idempotency_key: str) -> Instance:
        raise NotImplementedError

    def key_label(self, idempotency_key: str) -> tuple[str, str]:
        """The (label, value) a replacement carries for its key."""
        raise NotImplementedError

    def create_like(self, original: Instance, pricing_model: PricingModel, idempotency_key: str) -> Instance:
        """Create a machine like `original` of `pricing_model`, named and labelled for the key; wait for
        it."""
        raise NotImplementedError

    def migrate(self, instance_id: str, pricing_model: PricingModel, idempotency_key: str) -> Migration:
        label, value = self.key_label(idempotency_key)
        earlier = self.list_instances(InstanceFilter(tags={label: value}))
        if earlier:  # a retry: the replacement exists; finish the hand-over if it was interrupted
            replacement = self.wait_until_stable(earlier[0].id)
            original = self._last_view(instance_id, replacement)
        else:
            if pricing_model == "reserved":
                raise InvalidRequestError(
                    "reservations are bought, not launched; use on-demand", provider=self.name
                )
            original = self._original(instance_id)
            if original.pricing_model == pricing_model:
                raise InvalidRequestError(f"{instance_id} is already {pricing_model}", provider=self.name)
            if original.state != "running":
                raise IncorrectStateError(f"{instance_id} must be running to be migrated", provider=self.name)
            replacement = self.create_like(original, pricing_model, idempotency_key)
        if original.state != "terminated":
            original = self.terminate(instance_id, f"{idempotency_key}/retire")
        return Migration(original=original, replacement=self.get_instance(replacement.id))

    def _original(self, instance_id: str) -> Instance:
        """The machine to migrate; one replaced already (and so deleted) is in the wrong state, not
        unknown."""
        try:
            return self.get_instance(instance_id)
        except InstanceNotFoundError:
            successors = self.list_instances(InstanceFilter(tags={REPLACES_TAG: instance_id}))
            if successors:
                raise IncorrectStateError(
                    f"{instance_id} was replaced by {successors[0].id} already", provider=self.name
                ) from None
            raise

    def _last_view(self, instance_id: str, replacement: Instance) -> Instance:
        try:
            return self.get_instance(instance_id)
        except InstanceNotFoundError:  # deleted already: described from its replacement
            return replacement.model_copy(update={
                "id": instance_id, "name": instance_id, "state": "terminated", "replaces": None,
                "pricing_model": "on-demand" if replacement.pricing_model == "spot" else "spot",
            })  # fmt: skip


def matching(found: Iterable[Instance], f: InstanceFilter) -> list[Instance]:
    """The instances a filter keeps, for clouds whose listings cannot apply it themselves."""
    return [
        i
        for i in found
        if (f.region is None or i.region == f.region)
        and (f.state is None or i.state == f.state)
        and (f.pricing_model is None or i.pricing_model == f.pricing_model)
        and (f.application is None or i.application == f.application)
        and all(i.tags.get(k) == v for k, v in f.tags.items())
    ]


def catalog_shape(
    catalog: Catalog, provider: str, instance_type: str, region: str, pricing: PricingModel
) -> dict[str, object]:
    """An instance's size and list price from the catalog (the clouds' APIs list a size by name only)."""
    shape = catalog.find(provider, instance_type)
    if shape is None:
        return {"vcpus": 0, "memory_gb": 0.0, "gpu_count": 0, "hourly_price": 0.0}
    offered = shape.offered_in(region)
    return {
        "vcpus": shape.vcpus,
        "memory_gb": shape.memory_gb,
        "gpu_count": shape.gpu_count,
        "hourly_price": shape.price(region, pricing) if offered else 0.0,
    }


def check_window(hours: float, period: int, provider: str) -> None:
    if not 0 < hours <= 24 * 90 or period not in (60, 300, 900, 3600):
        raise InvalidRequestError(
            "hours must be in (0, 2160] and period 60, 300, 900 or 3600", provider=provider
        )


def summarise(
    provider: str,
    hours: float,
    percentiles: Sequence[float],
    running: Sequence[Instance],
    hourly: Callable[[Instance], Mapping[str, Sequence[float]]],
) -> UtilisationSummary:
    """Percentiles of each running machine's hourly `cpu`, `memory` and `network` (Mbps) series."""
    if not 0 < hours <= 24 * 90 or not percentiles or not all(0 <= q <= 100 for q in percentiles):
        raise InvalidRequestError("hours must be in (0, 2160] and percentiles in [0, 100]", provider=provider)
    qs = list(percentiles)
    cpu = np.full((len(qs), len(running)), np.nan, np.float32)
    memory = np.full_like(cpu, np.nan)
    cpu_mean = np.full(len(running), np.nan, np.float32)
    network = np.full(len(running), np.nan, np.float32)
    observed = np.zeros(len(running), np.int32)
    for k, inst in enumerate(running):
        series = hourly(inst)
        c = np.asarray(series["cpu"], np.float32)
        if not len(c):
            continue
        observed[k] = len(c)
        cpu[:, k] = np.percentile(c, qs)
        cpu_mean[k] = c.mean(dtype=np.float64)
        m = np.asarray([v for v in series["memory"] if not math.isnan(v)], np.float32)
        if len(m):
            memory[:, k] = np.percentile(m, qs)
        n = np.asarray(series["network"], np.float32)
        network[k] = n.mean(dtype=np.float64) if len(n) else math.nan
    return UtilisationSummary(
        hours, tuple(qs), [i.id for i in running], cpu, memory, cpu_mean, network, observed
    )


@dataclass(frozen=True)
class BillWindow:
    """The days of a cost question: `days` before `end`, grouped by `group_by` (`tag` for tag:KEY)."""

    start: datetime
    end: datetime
    group_by: str | None
    tag: str | None
    days: list[date]  # every UTC day the window touches


def bill_window(
    provider: str, group_by: str | None, days: float, groups: Sequence[str], end: datetime
) -> BillWindow:
    """The window of a cost question, its grouping refused before any call if the bill cannot answer it."""
    if days <= 0 or days > 365:
        raise InvalidRequestError(f"days must be in (0, 365], got {days}", provider=provider)
    tag = group_by[4:] if group_by and group_by.startswith("tag:") and len(group_by) > 4 else None
    if group_by not in (None, "provider", "day", *groups) and tag is None:
        raise InvalidRequestError(
            f"Unknown group_by '{group_by}'; expected provider, day, {', '.join(groups)} or tag:<key>",
            provider=provider,
        )
    start = end - timedelta(days=days)
    touched = [start.date() + timedelta(days=k) for k in range((end.date() - start.date()).days + 1)]
    return BillWindow(start, end, group_by, tag, touched)


def breakdown(
    window: BillWindow, provider: str, rows: Iterable[tuple[str, str, float]], daily: bool
) -> CostBreakdown:
    """A CostBreakdown from a bill's (group, ISO day, amount) rows. The group of a row is its key for the
    window's grouping (ignored without one: the whole bill is `provider`'s; the day itself by day)."""
    amounts: dict[str, float] = {}
    by_day: dict[str, dict[str, float]] = {}  # group → ISO day → amount
    for key, day, amount in rows:
        key = provider if window.group_by in (None, "provider") else day if window.group_by == "day" else key
        amounts[key] = amounts.get(key, 0.0) + amount
        on = by_day.setdefault(key, {})
        on[day] = on.get(day, 0.0) + amount
    iso_days = [d.isoformat() for d in window.days]

    def series(key: str) -> list[float] | None:
        return [by_day.get(key, {}).get(d, 0.0) for d in iso_days] if daily else None

    groups = sorted(
        (CostGroup(key=k, amount=v, daily=series(k)) for k, v in amounts.items()),
        key=lambda g: (-g.amount, g.key),
    )
    if window.group_by is None:
        totals = [sum(by_day[k].get(d, 0.0) for k in by_day) for d in iso_days]
        groups = [CostGroup(key="total", amount=sum(amounts.values()), daily=totals)] if daily else []
    return CostBreakdown(
        start=window.start,
        end=window.end,
        group_by=window.group_by,
        total=sum(amounts.values()),
        groups=groups,
        days=window.days if daily else None,
    )
