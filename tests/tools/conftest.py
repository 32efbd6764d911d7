"""Adapters under one contract: each backend fixture yields a provider and a way to steer its cloud."""

from __future__ import annotations

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
from tests.conftest import serve_simulator
from tests.tools.aws_account import AwsThrottle, seed_account
from tools.adapters.http import SimulatorHttpProvider
from tools.adapters.simulator import SimulatorProvider
from tools.provider import CloudProvider

SEED, SIZE = 42, 150
START = DEFAULT_START


class CloudControl(Protocol):
    def throttle(self, operation: str) -> None: ...

    def clear_faults(self) -> None: ...


@dataclass
class Backend:
    provider: CloudProvider
    control: CloudControl
    size: int  # instances the cloud holds
    start: datetime | None = None  # the cloud's clock, where it is known in advance (the simulator's)


class InProcessControl:
    def __init__(self, sim: CloudSimulator) -> None:
        self.sim = sim

    def throttle(self, operation: str) -> None:
        self.sim.set_faults({operation: FaultRule(throttle_rate=1.0)})

    def clear_faults(self) -> None:
        self.sim.clear_faults()


class HttpControl:
    def __init__(self, url: str) -> None:
        self.url = url

    def throttle(self, operation: str) -> None:
        httpx.post(
            f"{self.url}/faults", json={"rules": {operation: {"throttle_rate": 1.0}}}
        ).raise_for_status()

    def clear_faults(self) -> None:
        httpx.delete(f"{self.url}/faults").raise_for_status()


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    with serve_simulator(seed=SEED, size=SIZE) as url:
        yield url


@pytest.fixture(params=["simulator", "simulator-http", "aws"])
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
            aws = seed_account(aws_fleet)
            yield Backend(aws, AwsThrottle(aws), len(aws_fleet.list_instances(state="running")))
