"""Cloud adapter benchmark: one analysis (the savings ledger of one cloud's machines) through each adapter.

One simulator server (TLS, with Cloud Monitoring's gRPC port) serves a fleet; the ledger of its Azure
machines is read through the Azure SDK against the ARM dialect, and of its GCP machines through the GCP
SDKs against the Compute Engine and Monitoring dialects. Baselines in the same run: the same scope read
through the simulator's own HTTP API (`SimulatorHttpProvider`) and in process. Medians of --repeats; each
SDK adapter's ratio to the HTTP adapter on the same scope, and the opportunities found (which must agree).

Usage: python bench/bench_clouds.py [--size 600] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import trustme

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mock_cloud import CloudSimulator  # noqa: E402
from tests.conftest import Tls, free_port, serve_simulator  # noqa: E402
from tests.tools.azure_account import simulated_subscription  # noqa: E402
from tests.tools.gcp_project import simulated_project  # noqa: E402
from tools.adapters.http import SimulatorHttpProvider  # noqa: E402
from tools.adapters.simulator import SimulatorProvider  # noqa: E402
from tools.analysis.ledger import read_ledger  # noqa: E402
from tools.models import InstanceFilter  # noqa: E402
from tools.provider import CloudProvider  # noqa: E402

SEED = 7


def timed(read: Callable[[], int], repeats: int) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(repeats):
        began = time.perf_counter()
        found = read()
        times.append(time.perf_counter() - began)
    return statistics.median(times), found


def ledger_of(cloud: CloudProvider, scope: InstanceFilter | None) -> Callable[[], int]:
    return lambda: len(read_ledger(cloud, scope).opportunities)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp())
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(where / "ca.pem"))
    authority.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(where / "server.pem"))
    tls = Tls(str(where / "ca.pem"), str(where / "server.pem"))
    monitoring = free_port()
    results: dict[str, Any] = {"size": args.size, "repeats": args.repeats, "seed": SEED}
    in_process = SimulatorProvider(CloudSimulator(SEED, args.size))
    with serve_simulator(SEED, args.size, tls=tls, monitoring_port=monitoring) as url:
        verify = ssl.create_default_context(cafile=tls.ca)
        machines = httpx.get(f"{url}/instances", params={"limit": 1}, verify=verify).json()["total"]
        results["machines"] = machines
        http = SimulatorHttpProvider(url, client=httpx.Client(base_url=url, verify=verify, timeout=60))
        os.environ["REQUESTS_CA_BUNDLE"] = tls.ca  # the GCP clients trust the test CA as requests does
        azure, azure_time = simulated_subscription(url, tls.ca)
        gcp, gcp_time = simulated_project(url, monitoring, tls.ca)
        for cloud, adapter in (("azure", azure), ("gcp", gcp)):
            scope = InstanceFilter(provider=cloud)
            base, base_found = timed(ledger_of(http, scope), args.repeats)
            own, own_found = timed(ledger_of(in_process, scope), args.repeats)
            sdk, sdk_found = timed(ledger_of(adapter, None), args.repeats)
            results[cloud] = {
                "running": len(adapter.list_instances(InstanceFilter(state="running"))),
                "in_process_s": round(own, 3),
                "simulator_http_s": round(base, 3),
                "sdk_s": round(sdk, 3),
                "sdk_vs_http": round(sdk / base, 2),
                "opportunities": {"in_process": own_found, "http": base_found, "sdk": sdk_found},
            }
        for closing in (azure.close, gcp.close, azure_time.close, gcp_time.close):
            closing()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
