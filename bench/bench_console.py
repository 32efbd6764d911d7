"""Console benchmark: how long each page takes the server to render, on a 10,000-machine fleet.

The service in this process (in-process simulator, an SQLite file), a signed-in session, a rollout waiting
for approval, two budgets; each page rendered once cold (its figures read from the cloud and the ledger
computed) and then --repeats times (figures kept for the cloud's minute: see api/console/memo.py). Reports
each page's cold time and its p50/p90, next to two baselines measured in the same run: /healthz (the
service's floor) and GET /api/v1/instances?limit=50 (a JSON page of the same fleet). Goal: p50 ≤ 100 ms.

Usage: python bench/bench_console.py [--size 10000] [--repeats 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from api.service.app import create_app  # noqa: E402
from api.service.keys import create_key  # noqa: E402
from api.service.settings import ServiceSettings  # noqa: E402
from graphs.budget_store import BudgetStore  # noqa: E402
from tools.analysis.budgets import Budget  # noqa: E402
from tools.models import InstanceFilter  # noqa: E402


async def timed(client: httpx.AsyncClient, path: str, repeats: int, **headers: str) -> dict[str, Any]:
    started = time.perf_counter()
    first = await client.get(path, headers=headers)
    cold = time.perf_counter() - started
    assert first.status_code == 200, (path, first.status_code, first.text[:300])
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = await client.get(path, headers=headers)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, path
    times.sort()
    return {
        "cold_ms": round(cold * 1000, 1),
        "p50_ms": round(statistics.median(times) * 1000, 1),
        "p90_ms": round(times[int(0.9 * (len(times) - 1))] * 1000, 1),
        "bytes": len(first.content),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    with TemporaryDirectory() as tmp:
        app = create_app(ServiceSettings(db=f"sqlite:///{tmp}/bench.db", size=args.size), sweep=False)
        async with app.router.lifespan_context(app):
            db = app.state.rollouts.db
            key = await create_key(db, "bench", "admin")
            for name, scope in (("all", InstanceFilter()), ("ml", InstanceFilter(tags={"team": "ml"}))):
                await BudgetStore(db).create(Budget(name=name, amount=100_000, scope=scope), "bench")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://console", timeout=600
            ) as client:
                bearer = {"authorization": f"Bearer {key}"}
                started = await client.post(
                    "/api/v1/workflows", json={"kind": "rightsizing", "max_changes": 50}, headers=bearer
                )
                workflow_id = started.json()["workflow_id"]
                await app.state.runner.wait(workflow_id)
                signin = await client.get("/login")
                token = re.search(r'name="csrf" value="([^"]+)"', signin.text).group(1)  # type: ignore[union-attr]
                await client.post("/login", data={"csrf": token, "key": key, "next": "/"})
                instance = (await client.get("/api/v1/instances?limit=1", headers=bearer)).json()["items"][0][
                    "id"
                ]
                results: dict[str, Any] = {
                    "baseline /healthz": await timed(client, "/healthz", args.repeats),
                    "baseline /api/v1/instances?limit=50": await timed(
                        client, "/api/v1/instances?limit=50", args.repeats, **bearer
                    ),
                }
                for path in (
                    "/",
                    "/recommendations",
                    "/recommendations?kind=spot&environment=staging",
                    "/rollouts",
                    f"/rollouts/{workflow_id}",
                    "/fleet",
                    "/fleet?provider=aws&offset=500",
                    f"/fleet/{instance}",
                    "/budgets",
                    "/anomalies",
                    "/notifications",
                    "/chat?thread=t-bench",
                ):
                    results[path] = await timed(client, path, args.repeats)
    pages = {k: v for k, v in results.items() if not k.startswith("baseline")}
    worst = max(v["p50_ms"] for v in pages.values())
    api_page = results["baseline /api/v1/instances?limit=50"]["p50_ms"]
    print(
        json.dumps(
            {
                "fleet": args.size,
                "repeats": args.repeats,
                "pages": results,
                "worst_page_p50_ms": worst,
                "goal_p50_at_most_100_ms": worst <= 100,
                "ratio_worst_to_api_page": round(worst / api_page, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
