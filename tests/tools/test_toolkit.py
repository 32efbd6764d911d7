"""The agents' tools, called the way a model calls them: a ToolCall in, a ToolMessage out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool

from mock_cloud import CloudSimulator
from tools.adapters.simulator import SimulatorProvider
from tools.analysis.forecast import CostForecast
from tools.models import CostBreakdown, Instance
from tools.toolkit import Toolkit, build_toolkit
from tools.toolkit.results import InstanceList, QualitySummary, RightsizingReport, SavingsReport, SpotReport


@pytest.fixture(scope="module")
def toolkit() -> Toolkit:
    return build_toolkit(SimulatorProvider(CloudSimulator(seed=5, size=250)))


def call(toolkit: Toolkit, name: str, **args: Any) -> ToolMessage:
    tool = next(t for t in toolkit.all() if t.name == name)
    message = tool.invoke({"type": "tool_call", "name": name, "args": args, "id": "call-1"})
    assert isinstance(message, ToolMessage)
    return message


def error_of(message: ToolMessage) -> dict[str, Any]:
    assert message.status == "error", message.content
    body: dict[str, Any] = json.loads(str(message.content))
    return body


def test_each_agent_owns_its_tools(toolkit: Toolkit) -> None:
    agents = ("cost", "performance", "resource", "application")
    names = {agent: [t.name for t in toolkit.for_agent(agent)] for agent in agents}
    assert names == {
        "cost": ["current_time", "get_costs", "forecast_costs", "find_cost_anomalies", "find_savings",
                 "compare_prices"],
        "performance": ["get_instance_metrics", "find_rightsizing"],
        "resource": ["list_instances", "describe_instance", "find_idle_instances", "find_spot_candidates",
                     "find_off_hours_candidates", "list_instance_types", "assess_spot_risk"],
        "application": ["get_application_quality", "list_applications"],
    }  # fmt: skip
    with pytest.raises(KeyError, match="expected one of"):
        toolkit.for_agent("billing")


@pytest.mark.parametrize(
    "tool", build_toolkit(SimulatorProvider(CloudSimulator(size=1))).all(), ids=lambda tool: tool.name
)
def test_every_argument_is_described_for_a_model(tool: BaseTool) -> None:
    assert tool.description and len(tool.description) > 20
    for name, field in tool.args.items():
        assert field.get("description"), f"{tool.name}.{name} has no description"


def test_inventory_tools_return_typed_results(toolkit: Toolkit) -> None:
    listed = call(toolkit, "list_instances", provider="aws", state="running", limit=3)
    assert isinstance(listed.artifact, InstanceList) and len(listed.artifact.instances) == 3
    assert json.loads(str(listed.content))["total"] == listed.artifact.total
    first = listed.artifact.instances[0]
    described = call(toolkit, "describe_instance", instance_id=first.id)
    assert isinstance(described.artifact, Instance) and described.artifact == first


def test_bad_input_is_a_typed_error_the_agent_can_report(toolkit: Toolkit) -> None:
    assert (
        error_of(call(toolkit, "describe_instance", instance_id="i-0nothere"))["error"]
        == "instance_not_found"
    )
    negative = error_of(call(toolkit, "get_instance_metrics", instance_id="i-0x", hours=-5))
    assert negative["error"] == "invalid_request" and "hours" in negative["message"]
    assert error_of(call(toolkit, "list_instance_types", provider="oracle"))["error"] == "invalid_request"
    assert error_of(call(toolkit, "get_costs", group_by="colour"))["error"] == "invalid_request"
    unknown = error_of(call(toolkit, "compare_prices", provider="aws", instance_types=["m5.huge"]))
    assert "m5.huge" in unknown["message"]
    assert (
        error_of(call(toolkit, "get_application_quality", application="nope"))["error"]
        == "application_not_found"
    )


def test_cost_tools(toolkit: Toolkit) -> None:
    costs = call(toolkit, "get_costs", group_by="provider", days=7).artifact
    assert isinstance(costs, CostBreakdown) and {g.key for g in costs.groups} <= {"aws", "gcp", "azure"}
    projection = call(toolkit, "forecast_costs", history_days=45).artifact
    assert isinstance(projection, CostForecast) and projection.history_days == 45
    assert projection.lower_95 <= projection.next_30_days <= projection.upper_95
    prices = call(toolkit, "compare_prices", provider="aws", region="us-east-1", instance_types=["m5.large"])
    assert json.loads(str(prices.content))[0]["on_demand_hourly"] == 0.096
    savings = call(toolkit, "find_savings", kinds=["spot", "idle"], limit=5).artifact
    assert isinstance(savings, SavingsReport) and len(savings.recommendations) <= 5
    assert {r.kind for r in savings.recommendations} <= {"spot", "idle"}
    priorities = [r.priority for r in savings.recommendations]
    assert priorities == sorted(priorities, reverse=True)


def test_month_to_date() -> None:
    sim = CloudSimulator(seed=5, size=40)  # its clock: Wednesday 17 June 06:00, with months behind it
    toolkit = build_toolkit(SimulatorProvider(sim))
    month = call(toolkit, "get_costs", month_to_date=True, group_by="provider").artifact
    assert isinstance(month, CostBreakdown) and month.start.isoformat() == "2026-06-01T00:00:00+00:00"
    since_the_first = 16 * 86400 + 6 * 3600
    assert month.total > 0
    assert month.total == pytest.approx(sim.costs(start=sim.now() - since_the_first).total)


def test_performance_tools(toolkit: Toolkit) -> None:
    instance = call(toolkit, "list_instances", state="running", limit=1).artifact.instances[0]
    stats = json.loads(str(call(toolkit, "get_instance_metrics", instance_id=instance.id, hours=48).content))
    assert stats["points"] == 48 and stats["cpu_p50_pct"] <= stats["cpu_p95_pct"] <= stats["cpu_max_pct"]
    report = call(toolkit, "find_rightsizing", percentile=99.5, limit=3).artifact
    assert isinstance(report, RightsizingReport) and len(report.savings.recommendations) <= 3
    assert all(r.monthly_savings > 0 for r in report.savings.recommendations)
    assert all(r.monthly_savings < 0 for r in report.under_provisioned)
    running = call(toolkit, "list_instances", state="running", limit=1).artifact.total
    assert sum(report.findings.values()) == running
    assert error_of(call(toolkit, "find_rightsizing", percentile=50))["error"] == "invalid_request"


def test_resource_and_application_tools(toolkit: Toolkit) -> None:
    stateful = call(toolkit, "list_instances", state="running", pricing_model="on-demand",
                    tags={"stateful": "true"}, limit=1).artifact.instances[0]  # fmt: skip
    spot = call(toolkit, "assess_spot_risk", instance_ids=[stateful.id]).artifact
    assert isinstance(spot, SpotReport) and spot.eligible == 0 and spot.not_eligible == 1
    assert "stateful" in spot.assessments[0].reasons[0]
    types = json.loads(
        str(call(toolkit, "list_instance_types", provider="azure", gpu=True, min_vcpus=8).content)
    )
    assert types and all(t["gpu_count"] > 0 and t["vcpus"] >= 8 for t in types)
    apps = json.loads(str(call(toolkit, "list_applications", limit=5).content))
    assert [a["hourly_cost"] for a in apps] == sorted((a["hourly_cost"] for a in apps), reverse=True)
    health = call(toolkit, "get_application_quality", application=apps[0]["name"], minutes=30).artifact
    assert isinstance(health, QualitySummary) and health.serving_replicas == health.desired_replicas


def test_health_is_judged_against_each_service_s_own_normal() -> None:
    sim = CloudSimulator(seed=7, size=600)
    toolkit = build_toolkit(SimulatorProvider(sim))
    names = [a.name for a in sim.applications()]
    verdicts = {n: call(toolkit, "get_application_quality", application=n).artifact for n in names}
    flagged = [v for v in verdicts.values() if v.degraded]
    assert len(flagged) <= 0.03 * len(names)  # an untouched fleet is its own normal (25-37 % before)
    hot = [v for v in verdicts.values() if v.saturated]
    assert hot and all(any(r.startswith("saturated: p95 is") for r in v.reasons) for v in hot)
    # A regression that load does not explain: every machine of a calm service 60 % slower.
    calm = next(
        v for v in verdicts.values() if not v.degraded and not v.saturated and v.desired_replicas >= 2
    )
    sim.set_faults({}, degradation=(1.6, 0.0))
    for iid in sim.application(calm.application).instance_ids:
        sim.stop(iid)
    sim.advance(300)
    for iid in sim.application(calm.application).instance_ids:
        sim.start(iid)
    sim.advance(3600)
    slower = call(toolkit, "get_application_quality", application=calm.application).artifact
    assert slower.degraded and slower.latency_vs_normal_pct > 40
    assert slower.reasons[0].startswith("p95 latency +") and "against its normal" in slower.reasons[0]
