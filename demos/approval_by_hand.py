"""A person in the loop, from Python: start a rollout that waits for approval, approve part of it.

`python demos/approval_by_hand.py` — uses an in-memory database and an in-process simulator.
"""

import asyncio

from interpreter import use_project_interpreter

use_project_interpreter()

from graphs.rollout.authority import Caller
from graphs.rollout.models import Decision, RolloutSettings, Scope
from graphs.rollout.workflow import open_rollouts
from mock_cloud import CloudSimulator
from tools.adapters.simulator import SimulatorProvider


async def main() -> None:
    cloud = SimulatorProvider(CloudSimulator())
    async with open_rollouts("memory", cloud) as rollouts:
        waiting = await rollouts.start(
            "spot_migration",
            Scope(provider="aws"),
            RolloutSettings(auto_approve=False),
            caller=Caller("ops-bot", "operator"),
        )
        assert waiting.pending is not None
        print(
            f"{waiting.workflow_id} waits: {len(waiting.pending.instance_ids)} instances, "
            f"{waiting.pending.monthly_savings:,.2f} USD/month — {'; '.join(waiting.pending.why)}"
        )
        for approval in waiting.pending.approvals:
            print(f"  {approval.agent}: confidence {approval.confidence:.2f}, {len(approval.vetoes)} vetoed")
        first_three = waiting.pending.instance_ids[:3]
        decision = Decision(decision="approve", by="alice", instance_ids=first_three)
        done = await rollouts.decide(waiting.workflow_id, decision, Caller("alice", "approver"))
        assert done.report is not None
        print(
            f"{done.status}: changed {done.report.changed}, "
            f"saving {done.report.monthly_savings:,.2f} USD/month"
        )
        for entry in await rollouts.audit(waiting.workflow_id):
            print(f"  audit: {entry.kind:<9} by {entry.actor:<18} {entry.instance_id or ''}")


if __name__ == "__main__":
    asyncio.run(main())
