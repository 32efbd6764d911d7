"""A GCP project played by the simulator's Compute Engine and Cloud Monitoring dialects, driven through
google-cloud-compute (REST) and google-cloud-monitoring (gRPC).

Anonymous credentials stand in for Application Default Credentials; the adapter's clock and waits are the
simulator's (its clock read from the server, waiting advances it), as for the Azure subscription.
"""

from __future__ import annotations

from google.auth.credentials import AnonymousCredentials

from tests.tools.azure_account import SimulatorTime
from tools.adapters.gcp import GcpProvider

PROJECT = "acme-optiinfra-1"


def simulated_project(
    url: str, monitoring_port: int, ca: str | None = None
) -> tuple[GcpProvider, SimulatorTime]:
    time_ = SimulatorTime(url, ca)
    provider = GcpProvider(
        PROJECT,
        credentials=AnonymousCredentials(),
        endpoint=url,
        monitoring_endpoint=f"127.0.0.1:{monitoring_port}",
        poll_seconds=5,
        clock=time_.now,
        sleep=time_.sleep,
    )
    return provider, time_
