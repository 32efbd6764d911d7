"""Object storage: the buckets (storage accounts' containers, Cloud Storage buckets) a three-year-old account
holds, each in a storage class, read as its purpose has it.

Access logs and backups are written and hardly ever read, and sit in the hot class because nobody set a
lifecycle rule; a web application's assets are read many times over each day, and a few were moved to an
infrequent-access class by someone counting storage only, so their reads now cost more than the storage
saves; datasets are read now and then. All on the virtual clock and all billed (`billing_rows`): storage
by class, retrieval per GB read from the classes that charge it, lifecycle transitions per 1,000 objects,
and early deletion when data leaves a class before its minimum duration. Sizes and read rates are constant
over time (a bucket's growth is not modelled).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from mock_cloud.catalog.buckets import StorageClass, classes_of, storage_class
from mock_cloud.catalog.storage import HOURS_PER_MONTH, region_factor
from mock_cloud.clouds import Provider
from mock_cloud.errors import IncorrectResourceState, ResourceNotFound
from mock_cloud.instances import Instance
from mock_cloud.stable import stable_int
from mock_cloud.storage import Billed, BilledRows, matches
from mock_cloud.workloads import DAY, HOUR

_STREAM = 0xB0C7E75  # the buckets' own random stream: a seed's machines and volumes stay as they were
# What a bucket is for: (share of applications with one, GB (log-uniform low, high), objects per GB,
# share of its size read a day (low, high), share already in a colder class).
_PURPOSES: dict[str, tuple[float, tuple[float, float], tuple[float, float], tuple[float, float], float]] = {
    "logs": (0.45, (50.0, 20_000.0), (100.0, 1_000.0), (0.0, 0.0004), 0.15),
    "backups": (0.25, (100.0, 10_000.0), (0.5, 5.0), (0.0, 0.0001), 0.2),
    "assets": (0.2, (5.0, 500.0), (500.0, 2_000.0), (0.5, 5.0), 0.25),
    "datasets": (0.2, (100.0, 30_000.0), (5.0, 50.0), (0.005, 0.15), 0.1),
}
_UNREAD_SHARE = 0.5  # of log and backup buckets: never read at all
MONTH_DAYS = HOURS_PER_MONTH / 24
SERVICES = ("object-storage", "data-retrieval", "early-deletion")  # as the bill names them


@dataclass(slots=True)
class ClassSegment:
    start: float
    storage_class: str


@dataclass(slots=True)
class Charge:
    """A one-off charge: lifecycle transitions into a class, or early deletion out of one."""

    at: float
    usd: float
    service: str  # object-storage (transitions) | data-retrieval (a copy's reads) | early-deletion


@dataclass(slots=True)
class Bucket:
    name: str
    provider: Provider
    region: str
    created_at: float
    size_gb: float
    objects: int
    reads_gb_per_day: float
    tags: dict[str, str]
    history: list[ClassSegment]
    charges: list[Charge] = field(default_factory=list)

    @property
    def current(self) -> ClassSegment:
        return self.history[-1]

    @property
    def storage_class(self) -> StorageClass:
        return storage_class(self.provider, self.current.storage_class)

    @property
    def application(self) -> str:
        return self.tags.get("application", "")


@dataclass(frozen=True)
class BucketView:
    name: str
    provider: str
    region: str
    storage_class: str
    size_gb: float
    objects: int
    reads_gb_per_day: float  # the last 30 days' mean, as the cloud's request metrics show it
    created_at: float
    class_since: float
    application: str
    tags: dict[str, str]


class Buckets:
    """Owns the buckets and the one change made to them: a move to another storage class."""

    def __init__(self) -> None:
        self.buckets: dict[str, Bucket] = {}

    def bucket(self, name: str) -> Bucket:
        found = self.buckets.get(name)
        if found is None:
            raise ResourceNotFound("NoSuchBucket", f"The specified bucket does not exist: {name}")
        return found

    def view(self, b: Bucket) -> BucketView:
        return BucketView(
            name=b.name,
            provider=b.provider,
            region=b.region,
            storage_class=b.current.storage_class,
            size_gb=b.size_gb,
            objects=b.objects,
            reads_gb_per_day=b.reads_gb_per_day,
            created_at=b.created_at,
            class_since=b.current.start,
            application=b.application,
            tags=dict(b.tags),
        )

    def set_class(self, name: str, target: str, at: float) -> Bucket:
        """Move every object to `target`, as a lifecycle transition (colder) or a copy (warmer) does: the
        transitions or the reads are charged, and so is the rest of the minimum duration of the class left
        early. Objects in a class read only after a restore cannot be copied before one."""
        b = self.bucket(name)
        new = storage_class(b.provider, target)
        old = b.storage_class
        if new.name == old.name:
            return b
        if not old.online:
            raise IncorrectResourceState(
                "InvalidObjectState",
                f"The objects of '{name}' are in {old.name}: they must be restored before they can be copied "
                f"to {new.name}",
            )
        factor = region_factor(b.provider, b.region)
        if new.coldness > old.coldness:
            b.charges.append(Charge(at, b.objects / 1000 * new.transition_per_1000, "object-storage"))
        else:  # a copy reads every byte
            b.charges.append(Charge(at, b.size_gb * old.retrieval_gb * factor, "data-retrieval"))
        days_in = (at - b.current.start) / DAY
        if days_in < old.minimum_days:
            rest = (old.minimum_days - days_in) / MONTH_DAYS
            b.charges.append(Charge(at, b.size_gb * old.gb_month * factor * rest, "early-deletion"))
        b.history.append(ClassSegment(at, new.name))
        return b

    def billing_rows(
        self,
        out: BilledRows,
        provider: str | None = None,
        region: str | None = None,
        application: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Add each matching bucket's storage, retrieval and one-off charges to `out`."""

        add = out.add

        for b in self.buckets.values():
            if not matches(b, provider, region, application, tags):
                continue
            factor = region_factor(b.provider, b.region)
            shown = b.current.storage_class  # its "type" on the bill
            keys = {s: Billed(b.name, b.provider, b.region, shown, "on-demand", b.application, b.tags, s)
                    for s in SERVICES}  # fmt: skip
            for k, seg in enumerate(b.history):
                cls = storage_class(b.provider, seg.storage_class)
                end = b.history[k + 1].start if k + 1 < len(b.history) else np.inf
                add(
                    keys["object-storage"],
                    seg.start,
                    end,
                    b.size_gb * cls.gb_month * factor / HOURS_PER_MONTH,
                )
                if cls.retrieval_gb and b.reads_gb_per_day:
                    add(
                        keys["data-retrieval"],
                        seg.start,
                        end,
                        b.reads_gb_per_day / 24 * cls.retrieval_gb * factor,
                    )
            for charge in b.charges:
                if charge.usd:  # a one-off, on the bill in the hour it was made
                    add(keys[charge.service], charge.at, charge.at + HOUR, charge.usd)


def generate_buckets(seed: int, now: float, live: Iterable[Instance]) -> Buckets:
    """The buckets of a fleet's applications: logs, backups, assets and datasets, as their purpose has
    them written, read and classed."""
    found = Buckets()
    rng = np.random.default_rng([seed, _STREAM])
    first: dict[str, Instance] = {}
    for inst in live:
        app = inst.tags.get("application")
        if app and (app not in first or inst.launch_time < first[app].launch_time):
            first[app] = inst
    for app, inst in sorted(first.items()):
        for purpose, (share, (low, high), per_gb, (read_low, read_high), colder) in _PURPOSES.items():
            if rng.random() >= share:
                continue
            size = float(np.exp(rng.uniform(np.log(low), np.log(high))))
            reads = size * rng.uniform(read_low, read_high)
            if purpose in ("logs", "backups") and rng.random() < _UNREAD_SHARE:
                reads = 0.0
            created = float(np.floor(min(inst.launch_time, now - rng.uniform(30, 1000) * DAY)))
            hottest, *colder_classes = [c for c in classes_of(inst.provider) if c.online]
            history = [ClassSegment(created, hottest.name)]
            if rng.random() < colder:  # someone moved it once, rightly or not
                cls = colder_classes[int(rng.integers(0, min(2, len(colder_classes))))]
                moved = float(np.floor(created + (now - created) * rng.uniform(0.2, 0.9)))
                history.append(ClassSegment(moved, cls.name))
            name = f"{app}-{purpose}-{stable_int(seed, 'bucket', app, purpose) & 0xFFFF:04x}"
            tags: dict[str, str] = {
                k: inst.tags[k] for k in ("application", "environment", "team") if k in inst.tags
            }
            found.buckets[name] = Bucket(
                name=name, provider=inst.provider, region=inst.region, created_at=created,
                size_gb=round(size, 1), objects=max(1, int(size * rng.uniform(*per_gb))),
                reads_gb_per_day=round(reads, 3), tags=tags, history=history,
            )  # fmt: skip
    return found
