"""The ledger of savings opportunities: the one function that chat, `optiinfra recommend`,
`GET /api/v1/recommendations` and rollout plans read, so the same scope gives the same count and savings
everywhere.

An opportunity saves money. Sizing an under-provisioned machine up costs money: it is a performance finding,
kept apart with its cost increase and never netted into savings.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from pydantic import BaseModel, Field

from tools.analysis.engine import SavingsSummary, recommend, savings_summary
from tools.analysis.recommendation import KINDS, Kind, Recommendation
from tools.analysis.settings import AnalysisSettings
from tools.analysis.snapshot import FleetSnapshot, collect
from tools.models import InstanceFilter
from tools.provider import CloudProvider


class Ledger(BaseModel):
    instances_analysed: int = Field(description="Running instances in the scope")
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
) -> Ledger:
    """The ledger of a fleet snapshot, for the asked kinds and (when given) only these instances."""
    wanted = set(instance_ids)
    found = [r for r in recommend(snapshot, kinds, settings) if not wanted or r.instance_id in wanted]
    analysed = sum(1 for i in snapshot.instances if not wanted or i.id in wanted)
    return Ledger(
        instances_analysed=analysed,
        opportunities=[r for r in found if r.monthly_savings > 0],
        under_provisioned=[r for r in found if r.kind == "rightsize" and r.monthly_savings < 0],
    )


def read_ledger(
    cloud: CloudProvider,
    scope: InstanceFilter | None = None,
    kinds: Iterable[Kind] = KINDS,
    settings: AnalysisSettings | None = None,
    instance_ids: Collection[str] = (),
) -> Ledger:
    """The ledger of the running instances in `scope` on `cloud`."""
    return entries(collect(cloud, scope, settings), kinds, settings, instance_ids)
