"""The SDK adapters' figures are the cloud's own: what the Azure adapter reads through Cost Management and
Monitor, and the GCP adapter through Compute Engine's pages and Cloud Monitoring, equals what the
simulator's own REST API answers for the same scope and window (checked as a sceptical user would, not
against our analysis code)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1

from tests.conftest import Tls
from tests.tools.azure_account import simulated_subscription
from tests.tools.conftest import SEED, SIZE
from tests.tools.gcp_project import PROJECT, simulated_project
from tools.adapters.azure import AzureProvider
from tools.adapters.gcp import GcpProvider
from tools.adapters.http import SimulatorHttpProvider
from tools.analysis.kinds import MACHINE_KINDS
from tools.analysis.ledger import read_ledger
from tools.models import InstanceFilter


@pytest.fixture
def azure(arm_url: str, tls: Tls) -> Iterator[tuple[AzureProvider, httpx.Client]]:
    rest = httpx.Client(base_url=arm_url, verify=ssl.create_default_context(cafile=tls.ca), timeout=30)
    rest.post("/reset", json={"seed": SEED, "size": SIZE}).raise_for_status()
    provider, clock = simulated_subscription(arm_url, tls.ca)
    yield provider, rest
    provider.close()
    clock.close()
    rest.close()


def test_costs_by_team_and_day_are_the_simulators_bill(azure: tuple[AzureProvider, httpx.Client]) -> None:
    provider, rest = azure
    ours = provider.costs("tag:team", days=7, daily=True)
    theirs = rest.get(
        "/costs", params={"provider": "azure", "group_by": "tag:team", "days": 7, "daily": True}
    )
    bill = theirs.json()
    assert ours.total == pytest.approx(bill["total"], rel=1e-9)
    assert {g.key: g.amount for g in ours.groups} == pytest.approx(
        {g["key"]: g["amount"] for g in bill["groups"]}
    )
    web = provider.costs(None, 7, InstanceFilter(tags={"team": ours.groups[0].key}))
    scoped = rest.get("/costs", params={"provider": "azure", "days": 7, "tag": f"team={ours.groups[0].key}"})
    assert web.total == pytest.approx(scoped.json()["total"], rel=1e-9)


def test_a_vms_metrics_are_the_simulators(azure: tuple[AzureProvider, httpx.Client]) -> None:
    provider, rest = azure
    vm = provider.list_instances(InstanceFilter(state="running"))[0]
    ours = provider.metrics(vm.id, hours=24)
    theirs = rest.get(f"/instances/{vm.id}/metrics", params={"hours": 24}).json()
    assert list(ours.timestamps) == pytest.approx([_unix(t) for t in theirs["timestamps"]])
    assert list(ours.cpu_pct) == pytest.approx(theirs["cpu_pct"], abs=1e-3)  # the REST answer has 3 decimals
    assert list(ours.memory_pct) == pytest.approx(theirs["memory_pct"], abs=1e-3)


@pytest.fixture
def gcp(gce_url: tuple[str, int]) -> Iterator[tuple[GcpProvider, httpx.Client]]:
    url, monitoring = gce_url
    rest = httpx.Client(base_url=url, timeout=30)
    rest.post("/reset", json={"seed": SEED, "size": SIZE}).raise_for_status()
    provider, clock = simulated_project(url, monitoring)
    yield provider, rest
    provider.close()
    clock.close()
    rest.close()


def test_compute_engines_pages_are_followed_to_the_last(gcp: tuple[GcpProvider, httpx.Client]) -> None:
    provider, rest = gcp
    listed = rest.get("/instances", params={"provider": "gcp", "limit": 500}).json()["instances"]
    live = [i["id"] for i in listed if i["state"] != "terminated"]
    client = compute_v1.InstancesClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options={"api_endpoint": str(rest.base_url)},
    )
    request = compute_v1.AggregatedListInstancesRequest(project=PROJECT, max_results=4)
    pages = list(client.aggregated_list(request=request).pages)
    assert len(pages) == -(-len(live) // 4) > 1  # the SDK's pager followed every nextPageToken
    assert sorted(i.id for i in provider.list_instances()) == sorted(live)


def test_an_instances_metrics_are_the_simulators(gcp: tuple[GcpProvider, httpx.Client]) -> None:
    provider, rest = gcp
    machine = provider.list_instances(InstanceFilter(state="running"))[0]
    ours = provider.metrics(machine.id, hours=24)
    theirs = rest.get(f"/instances/{machine.id}/metrics", params={"hours": 24}).json()
    assert list(ours.timestamps) == pytest.approx([_unix(t) for t in theirs["timestamps"]])
    assert list(ours.cpu_pct) == pytest.approx(theirs["cpu_pct"], abs=1e-3)
    assert list(ours.memory_pct) == pytest.approx(theirs["memory_pct"], abs=1e-3)


def test_the_azure_ledger_is_the_simulators_reservations_included(
    azure: tuple[AzureProvider, httpx.Client], arm_url: str, tls: Tls
) -> None:
    """Azure does not mark a VM reserved; the bill does (Cost Management's PricingModel per resource). Read
    so, the savings advice through the SDK is the advice on the simulator's own API, VM for VM, and in
    dollars wherever the price is a list price (a Spot VM is priced at the catalog's spot price, the
    simulator's at its market's price of the hour)."""
    provider, _ = azure
    assert provider.list_instances(InstanceFilter(pricing_model="reserved"))  # seen as the bill sees them
    own = SimulatorHttpProvider(
        arm_url, client=httpx.Client(base_url=arm_url, verify=_trust(tls), timeout=60)
    )
    theirs = read_ledger(own, InstanceFilter(provider="azure"), MACHINE_KINDS).opportunities
    everything = read_ledger(provider)
    ours = everything.opportunities
    # The adapter reads machines only: volumes, snapshots and addresses are said not to be analysed.
    assert everything.notes and "not read from azure" in everything.notes[0]
    assert sorted((o.instance_id, o.kind) for o in ours) == sorted((o.instance_id, o.kind) for o in theirs)
    spot = {i.id for i in provider.list_instances(InstanceFilter(pricing_model="spot"))}
    listed = {o.instance_id: o.monthly_savings for o in theirs if o.instance_id not in spot}
    assert listed and {o.instance_id: o.monthly_savings for o in ours if o.instance_id not in spot} == (
        pytest.approx(listed, abs=0.01)
    )


def test_the_gcp_ledger_is_the_simulators(
    gcp: tuple[GcpProvider, httpx.Client], gce_url: tuple[str, int]
) -> None:
    provider, _ = gcp
    own = SimulatorHttpProvider(gce_url[0])
    # A GCE label cannot hold a schedule's time zone: the adapter writes no schedule, and none is advised.
    kinds = [k for k in MACHINE_KINDS if k != "off_hours"]
    machines = read_ledger(own, InstanceFilter(provider="gcp"), kinds).opportunities
    theirs = {(o.instance_id, o.kind) for o in machines}
    everything = read_ledger(provider)
    assert {(o.instance_id, o.kind) for o in everything.opportunities} == theirs and theirs
    assert any(n.startswith("off-hours schedules: not advised") for n in everything.notes)


def _trust(tls: Tls) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=tls.ca)


def _unix(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
