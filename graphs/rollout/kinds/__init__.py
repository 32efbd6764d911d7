"""Rollout kinds: what a rollout can carry out, one module per kind.

A kind declares its name and title, which of the ledger's recommendations it carries out, how a change is
applied and reverted through a CloudProvider (each call under its idempotency key, each outcome read back
from the cloud), and what each reviewing agent checks. Planning, execution, the reviews, the supervisor,
the HTTP schema and the command line read this registry, so a new kind is one module here, listed below,
plus its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from agents.review import AgentName, Change, Check, no_check
from graphs.rollout.models import ChangeResult
from tools.analysis.recommendation import Kind, Recommendation
from tools.provider import CloudProvider

Apply = Callable[[CloudProvider, str, int, list[Change]], list[ChangeResult]]
Revert = Callable[[CloudProvider, str, list[ChangeResult]], list[ChangeResult]]


@dataclass(frozen=True)
class RolloutKindSpec:
    name: str  # in the API, the database and the graph's state: "spot_migration"
    title: str  # in words: "spot migration"
    recommendation: Kind  # the engine whose advice it carries out
    action: str  # what is done to each machine, as its Change and the audit say it
    chooses: Callable[[Recommendation], bool]  # which of that engine's recommendations it carries out
    apply: Apply
    revert: Revert
    checks: Mapping[AgentName, Check] = field(default_factory=dict)
    spends: bool = False  # it costs money (an upsize): a person always approves, and it is not "savings"
    summary: str = ""  # one line for `optiinfra workflow kinds` and the API's docs
    # It deletes: a person always approves, and `cooling_off` says how long it can still be undone after.
    irreversible: bool = False
    cooling_off: str = ""
    # It is measured over days, not at once (a schedule saves at night and at weekends; a class move is
    # charged once in its first hour): its saving is read on the bill over this many days before its first
    # wave and from an hour after its last, once they have passed, and `measured_because` says why.
    measured_over_days: float = 0.0
    measured_because: str = ""

    @property
    def cli_name(self) -> str:
        return self.name.replace("_", "-")

    def monthly(self, savings: float) -> str:
        """A plan's monthly figure in words: what it saves, or, for a kind that spends, what it costs."""
        if self.spends:
            return f"{-savings:,.2f} USD/month more"
        return f"{savings:,.2f} USD/month saved"

    def check(self, agent: AgentName) -> Check:
        return self.checks.get(agent, no_check)


class UnknownKindError(ValueError):
    """A rollout kind the registry does not have; the message lists the ones it has."""


def _registry() -> dict[str, RolloutKindSpec]:
    from graphs.rollout.kinds import (
        address_release,
        bucket_tier_move,
        idle_stop,
        off_hours,
        rightsizing,
        snapshot_cleanup,
        spot_migration,
        upsize,
        volume_cleanup,
        volume_retype,
    )

    kinds = (
        spot_migration.KIND, rightsizing.KIND, upsize.KIND, idle_stop.KIND, off_hours.KIND,
        volume_retype.KIND, volume_cleanup.KIND, snapshot_cleanup.KIND, address_release.KIND,
        bucket_tier_move.KIND,
    )  # fmt: skip
    return {k.name: k for k in kinds}


KINDS: dict[str, RolloutKindSpec] = _registry()


def kind_of(name: str) -> RolloutKindSpec:
    """The kind named `name` (spot_migration or spot-migration alike), or UnknownKindError."""
    found = KINDS.get(name.strip().replace("-", "_"))
    if found is None:
        known = ", ".join(k.cli_name for k in KINDS.values())
        raise UnknownKindError(f"unknown rollout kind '{name}': expected one of {known}")
    return found
