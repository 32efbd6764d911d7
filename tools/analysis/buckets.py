"""Storage class moves: each bucket in the class that costs it least for how much of it is read, as S3
Storage Lens, Azure Advisor and Cloud Storage's Autoclass weigh it.

A month in a class is its storage (GB × the class's price) plus its reads (GB read × the class's retrieval
fee): colder classes store for less and read for more, so a bucket nobody reads saves by going colder and a
bucket read many times over a day loses by it — and one moved cold by someone counting storage alone saves
by coming back. A move costs once: lifecycle transitions per 1,000 objects (colder), or reading every byte
(warmer, a copy), and the rest of the minimum duration of the class left early (unknown: as if its objects
had just arrived). A move is advised when it saves at least the threshold a month and pays its one-off cost
back within `bucket_payback_months`; a move that costs more in reads than it saves in storage never is.
Classes read only after a restore (Glacier Flexible Retrieval, Deep Archive, Azure Archive) are neither
advised nor moved out of: a restore takes hours, and whether anyone can wait for it is a person's call.
"""

from __future__ import annotations

from datetime import datetime

from mock_cloud.catalog.buckets import STORAGE_CLASSES, StorageClass, classes_of
from mock_cloud.catalog.storage import region_factor
from tools.analysis.recommendation import Recommendation
from tools.analysis.settings import HOURS_PER_MONTH, StorageSettings
from tools.models import Bucket

MONTH_DAYS = HOURS_PER_MONTH / 24
DAY = 86400.0


def month_in(b: Bucket, cls: StorageClass) -> tuple[float, float]:
    """(storage, reads) in USD a month for the bucket in `cls`."""
    factor = region_factor(b.provider, b.region)
    return b.size_gb * cls.gb_month * factor, (
        b.reads_gb_per_day or 0.0
    ) * MONTH_DAYS * cls.retrieval_gb * factor


def move_costs(b: Bucket, old: StorageClass, new: StorageClass, now: datetime) -> tuple[float, float]:
    """(transitions or a copy's reads, early deletion) in USD, once, for moving the bucket from old to new."""
    factor = region_factor(b.provider, b.region)
    if new.coldness > old.coldness:
        once = b.objects / 1000 * new.transition_per_1000
    else:
        once = b.size_gb * old.retrieval_gb * factor
    days_in = (now - b.class_since).total_seconds() / DAY if b.class_since is not None else 0.0
    left = max(0.0, old.minimum_days - days_in)
    return once, b.size_gb * old.gb_month * factor * left / MONTH_DAYS


def bucket_tiers(buckets: list[Bucket], now: datetime, settings: StorageSettings) -> list[Recommendation]:
    out = []
    for b in buckets:
        age_days = (now - b.created_at).total_seconds() / DAY
        if b.reads_gb_per_day is None or age_days < settings.bucket_min_age_days:
            continue  # what a move costs in reads cannot be priced without a month of them
        old = STORAGE_CLASSES.get((b.provider, b.storage_class))
        if old is None or not old.online:
            continue  # a class not priced here (S3 Intelligent-Tiering, One Zone-IA), or read after a restore
        storage, reads = month_in(b, old)
        best: tuple[float, StorageClass, float, float, float, float] | None = None
        for new in classes_of(b.provider):
            if new.name == old.name or not new.online:
                continue
            new_storage, new_reads = month_in(b, new)
            saving = storage + reads - new_storage - new_reads
            once, early = move_costs(b, old, new, now)
            if (
                saving < settings.min_monthly_savings
                or once + early > saving * settings.bucket_payback_months
            ):
                continue
            if best is None or saving > best[0]:
                best = (saving, new, new_storage, new_reads, once, early)
        if best is not None:
            out.append(_advise(b, old, storage, reads, *best))
    return out


def _advise(
    b: Bucket,
    old: StorageClass,
    storage: float,
    reads: float,
    saving: float,
    new: StorageClass,
    new_storage: float,
    new_reads: float,
    once: float,
    early: float,
) -> Recommendation:
    colder = new.coldness > old.coldness
    read = b.reads_gb_per_day or 0.0
    share = read / b.size_gb if b.size_gb else 0.0
    how = "transitions" if colder else "a copy reading every byte"
    return Recommendation(
        instance_id=b.name,
        resource="bucket",
        provider=b.provider,
        region=b.region,
        application=b.application,
        kind="bucket_tier",
        finding="rarely-read" if colder else "read-more-than-it-saves",
        action="change-storage-class",
        current=old.name,
        target=new.name,
        monthly_savings=round(saving, 2),
        risk="low",
        risk_score=0.15 if colder else 0.1,
        confidence=0.85,
        reasons=[
            f"{b.size_gb:,.0f} GB in {old.name}, {read:,.2f} GB read a day ({share:.2%} of it) over 30 days",
            f"{new.name}: {new_storage:,.2f} USD storage + {new_reads:,.2f} USD reads a month, against "
            f"{storage:,.2f} + {reads:,.2f} in {old.name} now",
            f"the move costs {once + early:,.2f} USD once ({how} {once:,.2f}, early deletion {early:,.2f}): "
            f"paid back in {_payback(once + early, saving)}",
        ],
    )


def _payback(once: float, saving: float) -> str:
    days = once / saving * MONTH_DAYS
    return (
        "under a day" if days < 1 else f"{days:.0f} days" if days < 60 else f"{days / MONTH_DAYS:.1f} months"
    )
