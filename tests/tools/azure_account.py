"""An Azure subscription played by the simulator's ARM dialect, driven through the real Azure SDK.

The dialect answers over TLS (azure-core's bearer-token policy refuses plain http) with a trustme
certificate; a fixed token stands in for Entra ID. The adapter's clock and waits are the simulator's:
its clock is read from the server and waiting advances it, as moto's tests replace waiting with nothing.
"""

from __future__ import annotations

import ssl
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from azure.core.credentials import AccessToken

from tools.adapters.azure import AzureProvider

SUBSCRIPTION = "6f1f4b0e-2b3c-4d5e-8f90-123456789abc"


class FixedToken:
    """A TokenCredential that always has a token: what Entra ID would issue, without Entra ID."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("simulated-token", int(time.time()) + 3600)


class SimulatorTime:
    """The served simulator's clock, and waiting as moving it forward."""

    def __init__(self, url: str, ca: str | None) -> None:
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca) if ca else True
        self._client = httpx.Client(base_url=url, verify=verify, timeout=10)

    def now(self) -> datetime:
        return _parse(self._client.get("/clock").json()["now"])

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._client.post("/clock/advance", json={"seconds": seconds}).raise_for_status()

    def close(self) -> None:
        self._client.close()


def simulated_subscription(
    url: str, ca: str, resource_group: str | None = None
) -> tuple[AzureProvider, SimulatorTime]:
    time_ = SimulatorTime(url, ca)
    provider = AzureProvider(
        SUBSCRIPTION, resource_group, credential=FixedToken(), base_url=url, connection_verify=ca,
        poll_seconds=5, clock=time_.now, sleep=time_.sleep,
    )  # fmt: skip
    return provider, time_


def _parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).astimezone(UTC)
