"""Adapters under one contract: each backend fixture yields a provider and a way to steer its cloud."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import httpx
import pytest
from moto import mock_aws

from mock_cloud import CloudSimulator
from mock_cloud.clock import DEFAULT_START
from mock_cloud.faults import FaultRule
from tests.conftest import Tls, free_port, serve_simulator
from tests.tools.aws_account import AwsThrottle, seed_account
from tests.tools.azure_account import simulated_subscription
from tests.tools.gcp_project import simulated_project
from tools.adapters.http import SimulatorHttpProvider
from tools.adapters.simulator import SimulatorProvider
from tools.provider import CloudProvider

SEED, SIZE = 42, 150
START = DEFAULT_START


class CloudControl(Protocol):
    def throttle(self, operation: str) -> None: ...

    def clear_faults(self) -> None: ...


@dataclass(frozen=True)
class Cloud:
    """What the contract acts on in one cloud: its name, two sizes to resize between, one it never sold,
    a size and region with a known list price, and its throttling error code."""

    name: str
    sizes: tuple[str, str]
    unknown_size: str
    priced: tuple[str, str, float]  # (size, region, on-demand USD/h)
    throttle_code: str


AWS = Cloud(
    "aws", ("m5.large", "m5.xlarge"), "m5.gigantic", ("m5.large", "us-east-1", 0.096), "RequestLimitExceeded"
)
GCP = Cloud(
    "gcp",
    ("n2-standard-2", "n2-standard-4"),
    "n2-gigantic-999",
    ("n2-standard-2", "us-central1", 0.097118),
    "rateLimitExceeded",
)
AZURE = Cloud(
    "azure",
    ("Standard_D2s_v3", "Standard_D4s_v3"),
    "Standard_Gigantic_v9",
    ("Standard_D2s_v3", "eastus", 0.096),
    "TooManyRequests",
)


@dataclass
class Backend:
    provider: CloudProvider
    control: CloudControl
    size: int  # instances the cloud holds
    start: datetime | None = None  # the cloud's clock, where it is known in advance (the simulator's)
    cloud: Cloud = AWS  # the cloud whose machines the contract changes


class InProcessControl:
    def __init__(self, sim: CloudSimulator) -> None:
        self.sim = sim

    def throttle(self, operation: str) -> None:
        self.sim.set_faults({operation: FaultRule(throttle_rate=1.0)})

    def clear_faults(self) -> None:
        self.sim.clear_faults()


class HttpControl:
    def __init__(self, url: str, ca: str | None = None) -> None:
        self.url = url
        self.verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca) if ca else True

    def throttle(self, operation: str) -> None:
        httpx.post(
            f"{self.url}/faults", json={"rules": {operation: {"throttle_rate": 1.0}}}, verify=self.verify
        ).raise_for_status()

    def clear_faults(self) -> None:
        httpx.delete(f"{self.url}/faults", verify=self.verify).raise_for_status()


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    with serve_simulator(seed=SEED, size=SIZE) as url:
        yield url


@pytest.fixture(scope="session")
def arm_url(tls: Tls) -> Iterator[str]:
    """The simulator served over TLS: its ARM dialect is what the Azure SDK talks to."""
    with serve_simulator(seed=SEED, size=SIZE, tls=tls) as url:
        yield url


@pytest.fixture(scope="session")
def gce_url() -> Iterator[tuple[str, int]]:
    """The simulator with its Cloud Monitoring gRPC port: Compute Engine's REST dialect and Monitoring are
    what the GCP SDKs talk to."""
    monitoring = free_port()
    with serve_simulator(seed=SEED, size=SIZE, monitoring_port=monitoring) as url:
        yield url, monitoring


@pytest.fixture(params=["simulator", "simulator-http", "aws", "azure", "gcp"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    sim = CloudSimulator(seed=SEED, size=SIZE)
    if request.param == "simulator":
        yield Backend(SimulatorProvider(sim), InProcessControl(sim), SIZE, START)
    elif request.param == "simulator-http":
        url = request.getfixturevalue("simulator_url")
        httpx.post(
            f"{url}/reset", json={"seed": SEED, "size": SIZE}
        ).raise_for_status()  # a fresh cloud per test
        provider = SimulatorHttpProvider(url)
        yield Backend(provider, HttpControl(url), SIZE, START)
        provider.close()
    elif request.param == "azure":
        tls: Tls = request.getfixturevalue("tls")
        url = request.getfixturevalue("arm_url")
        control = HttpControl(url, tls.ca)
        httpx.post(
            f"{url}/reset", json={"seed": SEED, "size": SIZE}, verify=control.verify
        ).raise_for_status()
        azure, clock = simulated_subscription(url, tls.ca)
        live = [
            i
            for i in CloudSimulator(seed=SEED, size=SIZE).list_instances(provider="azure")
            if i.state != "terminated"
        ]
        yield Backend(azure, control, len(live), START, AZURE)
        azure.close()
        clock.close()
    elif request.param == "gcp":
        url, monitoring = request.getfixturevalue("gce_url")
        httpx.post(f"{url}/reset", json={"seed": SEED, "size": SIZE}).raise_for_status()
        gcp, clock = simulated_project(url, monitoring)
        live = [
            i
            for i in CloudSimulator(seed=SEED, size=SIZE).list_instances(provider="gcp")
            if i.state != "terminated"
        ]
        yield Backend(gcp, HttpControl(url), len(live), START, GCP)
        gcp.close()
        clock.close()
    else:
        for name, value in (
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_SESSION_TOKEN", "testing"),
            ("AWS_DEFAULT_REGION", "us-east-1"),
        ):
            monkeypatch.setenv(name, value)  # moto's advice: never let a test find real credentials
        aws_fleet = CloudSimulator(seed=SEED, size=24, provider_mix={"aws": 1.0})
        with mock_aws():
            # Volumes, snapshots and addresses only for the tests that use them (marked `storage`).
            aws = seed_account(aws_fleet, storage=request.node.get_closest_marker("storage") is not None)
            yield Backend(aws, AwsThrottle(aws), len(aws_fleet.list_instances(state="running")))
