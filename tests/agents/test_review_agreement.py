"""What the recommender advises, the reviewers approve: one set of models and thresholds for both."""

from __future__ import annotations

import pytest

from agents.review import RolloutKind
from agents.reviewers import REVIEWERS
from graphs.rollout.kinds import kind_of
from graphs.rollout.models import RolloutSettings, Scope
from graphs.rollout.planning import make_plan
from mock_cloud import CloudSimulator
from tools.adapters.simulator import SimulatorProvider


@pytest.mark.parametrize("kind", ["spot_migration", "rightsizing"])
@pytest.mark.parametrize("guard", [5.0, 2.0])
def test_at_least_nine_in_ten_recommendations_pass_review(kind: RolloutKind, guard: float) -> None:
    cloud = SimulatorProvider(CloudSimulator())  # the default fleet: seed 7, 600 instances
    settings = RolloutSettings(max_latency_increase_pct=guard)
    plan = make_plan(cloud, kind, Scope(), settings)
    assert len(plan.changes) >= 100
    vetoed: set[str] = set()
    for agent, review in REVIEWERS.items():
        vetoed |= set(review(plan, cloud, settings.review_policy(), kind_of(kind).check(agent)).vetoes)
    assert len(vetoed) <= 0.1 * len(plan.changes), sorted(vetoed)[:5]
    # Planning saved on what the reviewers would let through, to the guard it was given.
    if kind == "rightsizing":
        assert all(c.projected_cpu_pct <= 80 and c.projected_peak_cpu_pct <= 90 for c in plan.changes)
