"""The ledger of savings opportunities: the one function that chat, `optiinfra recommend`,
`GET /api/v1/recommendations` and rollout plans read, so the same scope gives the same count and savings
everywhere.

An opportunity saves money. Sizing an under-provisioned machine up costs money: it is a performance finding,
kept apart with its cost increase and never netted into savings.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from pydantic import BaseModel, Field

from tools.analysis.engine import SavingsSummary, prioritise, recommend, savings_summary
from tools.analysis.kinds import STORAGE_KINDS
from tools.analysis.recommendation import KINDS, Kind, Recommendation
from tools.analysis.settings import AnalysisSettings
from tools.analysis.snapshot import FleetSnapshot, collect
from tools.analysis.storage import StorageInventory, collect_storage, storage_findings
from tools.models import InstanceFilter, UtilisationSummary
from tools.provider import CloudProvider


class Ledger(BaseModel):
    instances_analysed: int = Field(description="Running instances in the scope")
    volumes_analysed: int = 0
    snapshots_analysed: int = 0
    addresses_analysed: int = 0
    buckets_analysed: int = 0
    notes: list[str] = Field(default_factory=list, description="What could not be read, and why")
    opportunities: list[Recommendation] = Field(description="Money-saving changes, highest priority first")
    under_provisioned: list[Recommendation] = Field(
        description="Machines to size up for performance; their monthly_savings is the cost increase (< 0)"
    )

    @property
    def summary(self) -> SavingsSummary:
        return savings_summary(self.opportunities)

    @property
    def under_provisioned_monthly_cost(self) -> float:
        """What sizing the under-provisioned machines up adds a month, USD (a positive number)."""
        return round(-sum(r.monthly_savings for r in self.under_provisioned), 2)


def entries(
    snapshot: FleetSnapshot,
    kinds: Iterable[Kind] = KINDS,
    settings: AnalysisSettings | None = None,
    instance_ids: Collection[str] = (),
    storage: StorageInventory | None = None,
) -> Ledger:
    """The ledger of a fleet snapshot (and of the volumes, snapshots and addresses in `storage`), for the
    asked kinds and (when given) only these resources."""
    settings = settings or AnalysisSettings()
    kinds = list(kinds)
    wanted = set(instance_ids)
    found = recommend(snapshot, kinds, settings)
    inventory = storage or StorageInventory(snapshot.now)
    if any(k in STORAGE_KINDS for k in kinds):
        # Every resource has one opportunity of its own: the two lists never share an id. Scoring the
        # machines' again gives them the priority they had; one ranking then orders both.
        found = prioritise(found + storage_findings(inventory, kinds, settings.storage), settings.priority)
    found = [r for r in found if not wanted or r.instance_id in wanted]

    def count(items: Iterable[Any]) -> int:
        return sum(1 for i in items if not wanted or i.id in wanted)

    return Ledger(
        instances_analysed=count(snapshot.instances),
        volumes_analysed=count(inventory.volumes),
        snapshots_analysed=count(inventory.snapshots),
        addresses_analysed=count(inventory.addresses),
        buckets_analysed=count(inventory.buckets),
        notes=snapshot.notes + inventory.notes,
        opportunities=[r for r in found if r.monthly_savings > 0],
        under_provisioned=[r for r in found if r.kind == "rightsize" and r.monthly_savings < 0],
    )


def storage_ledger(
    inventory: StorageInventory,
    kinds: Iterable[Kind],
    settings: AnalysisSettings | None = None,
    ids: Collection[str] = (),
) -> Ledger:
    """The ledger of volumes, snapshots and addresses alone (a rollout of a storage kind plans from it)."""
    empty = FleetSnapshot(inventory.now, [], {}, UtilisationSummary.empty(), UtilisationSummary.empty())
    return entries(empty, kinds, settings, ids, inventory)


def read_ledger(
    cloud: CloudProvider,
    scope: InstanceFilter | None = None,
    kinds: Iterable[Kind] = KINDS,
    settings: AnalysisSettings | None = None,
    instance_ids: Collection[str] = (),
) -> Ledger:
    """The ledger of the running instances in `scope` on `cloud`, and of its volumes, snapshots and
    addresses when storage kinds are asked."""
    kinds = list(kinds)
    snapshot = collect(cloud, scope, settings, hourly="off_hours" in kinds)
    storage = collect_storage(cloud, scope, kinds, snapshot.now)
    return entries(snapshot, kinds, settings, instance_ids, storage)
