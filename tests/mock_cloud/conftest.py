from __future__ import annotations

import pytest

from mock_cloud import CloudSimulator
from mock_cloud.views import InstanceView


@pytest.fixture
def sim() -> CloudSimulator:
    return CloudSimulator(seed=42, size=200)


def first(sim: CloudSimulator, **filters: object) -> InstanceView:
    """The first instance matching the filters (the tests' fleets are big enough to have one)."""
    found = sim.list_instances(**filters)  # type: ignore[arg-type]
    assert found, f"no instance matches {filters}"
    return found[0]
