"""Adapters under one contract: each backend fixture yields a provider and a way to steer its cloud."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import httpx
import pytest

from mock_cloud import CloudSimulator
from mock_cloud.faults import FaultRule
from tests.conftest import serve_simulator
from tools.adapters.http import SimulatorHttpProvider
from tools.adapters.simulator import SimulatorProvider
from tools.provider import CloudProvider

SEED, SIZE = 42, 150


class CloudControl(Protocol):
    def throttle(self, operation: str) -> None: ...

    def clear_faults(self) -> None: ...


@dataclass
class Backend:
    provider: CloudProvider
    control: CloudControl


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


@pytest.fixture(params=["simulator", "simulator-http"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "simulator":
        sim = CloudSimulator(seed=SEED, size=SIZE)
        yield Backend(SimulatorProvider(sim), InProcessControl(sim))
        return
    url = request.getfixturevalue("simulator_url")
    httpx.post(f"{url}/reset", json={"seed": SEED, "size": SIZE}).raise_for_status()  # a fresh cloud per test
    provider = SimulatorHttpProvider(url)
    yield Backend(provider, HttpControl(url))
    provider.close()
