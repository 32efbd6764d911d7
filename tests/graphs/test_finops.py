"""The FinOps loop as the virtual clock runs: a budget's forecast alert goes out days before its actual one,
each once, and its action starts a rollout that waits for a person; a cost spike is told once, to the
channels whose part of the fleet it is in; two replicas checking at once send each alert once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from graphs.budget_store import BudgetStore
from graphs.finops import FinOps
from graphs.rollout.workflow import open_rollouts
from mock_cloud import CloudSimulator
from mock_cloud.faults import cost_spike
from tests.conftest import cloud_of
from tests.receivers import http_receiver
from tools.analysis.budgets import Budget, BudgetAction, Threshold, status
from tools.channels.subscription import Channel
from tools.channels.webhook import WebhookTarget
from tools.models import InstanceFilter


async def test_forecast_then_actual_alerts_once_each_and_the_action_waits_for_a_person() -> None:
    sim = CloudSimulator(seed=7, size=200)
    cloud = cloud_of(sim)
    forecast = status(cloud, Budget(name="probe", amount=1.0)).forecast_low_usd
    assert forecast is not None
    budget = Budget(
        name="all",
        amount=round(forecast * 0.9, 2),  # below the forecast's whole range
        thresholds=[Threshold(percent=100), Threshold(percent=100, basis="forecast")],
        action=BudgetAction(kind="spot_migration", threshold="actual:100", max_changes=5),
    )
    with http_receiver() as receiver:
        async with open_rollouts("memory", cloud) as rollouts:
            await rollouts.notifier.store.add(Channel(name="finance", target=WebhookTarget(url=receiver.url),
                                                      events=["budget_threshold"]), "lead")  # fmt: skip
            await BudgetStore(rollouts.db).create(budget, "lead")
            finops = FinOps(rollouts)
            when: dict[str, date] = {}
            started = []
            while sim.now() < datetime(2026, 7, 1, tzinfo=UTC).timestamp() - 3600:
                (checked,) = await finops.check_budgets()
                for key in checked.new:
                    when[key] = datetime.fromtimestamp(sim.now(), UTC).date()
                started += [checked.action_workflow_id] if checked.action_workflow_id else []
                sim.advance(86400)
            (workflow_id,) = started
            run = await rollouts.status(workflow_id)
            actions = await BudgetStore(rollouts.db).actions("all")
        assert when["forecast:100"] == date(2026, 6, 17) and when["actual:100"] > date(2026, 6, 21)
        forecast_alert, actual_alert = (p.json() for p in receiver.posts)  # one each, in that order
        assert (forecast_alert["severity"], actual_alert["severity"]) == ("warning", "critical")
        assert forecast_alert["title"] == "Budget all: 100 % forecast crossed"
        assert f"Its action started a spot migration ({workflow_id})" in actual_alert["text"]
        assert actual_alert["action"] == f"optiinfra workflow approve {workflow_id} --by NAME"
        assert run.status == "awaiting_approval" and run.requested_by == "budget all"
        assert run.pending is not None and 0 < len(run.pending.instance_ids) <= 5
        assert "auto-approve is off" in run.pending.why
        assert actions == {"2026-06-01 actual:100": workflow_id}


async def test_a_cost_spike_is_told_once_to_the_channels_whose_part_of_the_fleet_it_is_in() -> None:
    sim = CloudSimulator(seed=7, size=300)
    day = 86400.0
    sim.set_faults(
        {}, cost_spikes=[cost_spike(sim.now() - 3 * day, sim.now() - day, 2.0, tags={"team": "ml"})]
    )
    with http_receiver() as ml, http_receiver() as web:
        async with open_rollouts("memory", cloud_of(sim)) as rollouts:
            for name, receiver, team in (("ml", ml, "ml"), ("web", web, "web")):
                await rollouts.notifier.store.add(
                    Channel(name=name, target=WebhookTarget(url=receiver.url), events=["anomaly_opened"],
                            scope=InstanceFilter(tags={"team": team})), "lead"
                )  # fmt: skip
            finops = FinOps(rollouts)
            first = await finops.check_anomalies()
            again = await finops.check_anomalies()
    spikes = [a for a in first.found if a.kind == "spike"]
    assert any(a.key.startswith("tag:team=ml@") for a in spikes) and not again.opened
    told = {p.json()["facts"]["key"] for p in ml.posts}
    assert "tag:team=ml@" + min(a.start for a in spikes if a.value == "ml").isoformat() in told
    assert len(told) == len(ml.posts)  # each once
    assert not web.posts


async def test_two_replicas_checking_at_once_send_each_alert_once(postgres_schema_url: str) -> None:
    budget = Budget(name="ml", amount=500, scope=InstanceFilter(tags={"team": "ml"}))
    with http_receiver() as receiver:
        async with (
            open_rollouts(postgres_schema_url, cloud_of(CloudSimulator(7, 200))) as one,
            open_rollouts(postgres_schema_url, cloud_of(CloudSimulator(7, 200))) as other,
        ):
            await one.notifier.store.add(Channel(name="all", target=WebhookTarget(url=receiver.url)), "lead")
            await BudgetStore(one.db).create(budget, "lead")
            reports = await asyncio.gather(FinOps(one).check(), FinOps(other).check())
    keys = [p.json()["key"] for p in receiver.posts]
    assert sorted(keys) == sorted(set(keys))
    new = [k for r in reports for b in r.budgets for k in b.new]
    assert sorted(new) == ["actual:100", "actual:50", "actual:80", "forecast:100"]  # 500 a month is little
    assert sum(k.startswith("budget_threshold/") for k in keys) == 4
