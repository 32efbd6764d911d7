"""HTTP service benchmark: requests/s and latency of the API on 127.0.0.1, with SQLite and PostgreSQL.

Prints one JSON object per database:
- `instances`: GET /api/v1/instances?limit=50, `--concurrency` clients (goal ≥ 500/s); and, in
  `instances_by_fleet_size`, the same on `--size` and `--large-size` fleets back to back (goal: ratio ≤ 1.5);
- `chat`: POST /api/v1/chat (no model) with the same clients, and the same turns through the supervisor
  graph in this process (`open_chat`, same database kind, fleet and concurrency): the service's throughput
  as a ratio of the in-process one (goal ≥ 0.7);
- `cycle`: trigger → approval asked → approve → completed, one at a time: p50/p99 seconds per cycle.

A real `optiinfra serve` process (auth on, an admin key), an in-process simulator of `--size` instances.
PostgreSQL is skipped when nothing listens on 127.0.0.1:5432. Bounded: a fixed number of requests.

Usage: python bench/bench_service.py [--requests 400] [--turns 120] [--cycles 5] [--concurrency 4]
       [--size 600] [--large-size 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from api.service.keys import create_key
from graphs.database import Database
from graphs.rollout.authority import Caller
from graphs.supervisor.chat import open_chat
from mock_cloud import CloudSimulator
from tools.adapters.simulator import resilient_simulator

BENCH = Caller("bench", "admin")

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
CHAT_MESSAGE = "what did we spend over the last 30 days?"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def load(count: int, concurrency: int, call: Callable[[int], Awaitable[None]]) -> dict[str, float]:
    """`count` calls by `concurrency` workers: requests per second and per-call latency."""
    latencies: list[float] = []
    next_call = iter(range(count))

    async def worker() -> None:
        for k in next_call:
            t0 = time.perf_counter()
            await call(k)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"per_s": round(count / elapsed, 1), "p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1)}  # fmt: skip


async def serve(db: str, size: int) -> tuple[subprocess.Popen[bytes], str, str]:
    database = await Database.open(db)
    key = await create_key(database, f"bench-{secrets.token_hex(3)}", "admin")
    await database.close()
    port = free_port()
    env = {**os.environ, "OPTIINFRA_RATE_PER_MINUTE": "100000000"}
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--db", db, "--size", str(size), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return process, url, key
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    process.kill()
    raise RuntimeError("the service did not start")


async def cycle(client: httpx.AsyncClient, kind: str) -> tuple[float, str]:
    """One trigger → approve → end. Spot migrations and rightsizing alternate; each plans what the earlier
    cycles left, so later ones may find less (or nothing) to do: their statuses are printed."""
    started = time.perf_counter()
    made = await client.post("/api/v1/workflows", json={"kind": kind, "scope": {}})
    workflow_id = made.json()["workflow_id"]
    if await until(client, workflow_id, {"awaiting_approval", "nothing_to_do"}) == "awaiting_approval":
        await client.post(f"/api/v1/workflows/{workflow_id}/decision", json={"decision": "approve"})
    status = await until(client, workflow_id, {"completed", "rolled_back", "nothing_to_do"})
    return time.perf_counter() - started, status


async def until(client: httpx.AsyncClient, workflow_id: str, statuses: set[str]) -> str:
    while (status := (await client.get(f"/api/v1/workflows/{workflow_id}")).json()["status"]) not in statuses:
        await asyncio.sleep(0.02)
    return str(status)


async def in_process_chat(db: str, size: int, turns: int, concurrency: int) -> dict[str, float]:
    cloud = resilient_simulator(CloudSimulator(7, size))
    async with open_chat(db, cloud) as chat:
        await chat.turn("warm", CHAT_MESSAGE, BENCH)

        async def turn(k: int) -> None:
            await chat.turn(f"bench-{k}", CHAT_MESSAGE, BENCH)

        return await load(turns, concurrency, turn)


async def measure(db: str, args: argparse.Namespace) -> dict[str, Any]:
    process, url, key = await serve(db, args.size)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
            await client.get("/api/v1/instances")  # warm
            await client.post("/api/v1/chat", json={"message": CHAT_MESSAGE})

            async def instances(_: int) -> None:
                assert (await client.get("/api/v1/instances", params={"limit": 50})).status_code == 200

            async def chat(k: int) -> None:
                body = {"thread_id": f"bench-{k}", "message": CHAT_MESSAGE}
                assert (await client.post("/api/v1/chat", json=body)).status_code == 200

            listed = await load(args.requests, args.concurrency, instances)
            chatted = await load(args.turns, args.concurrency, chat)
            kinds = ("spot_migration", "rightsizing")
            cycles = [await cycle(client, kinds[k % 2]) for k in range(args.cycles)]
    finally:
        process.terminate()
        process.wait(timeout=30)
    local = await in_process_chat(db, args.size, args.turns, args.concurrency)
    return {
        "instances": listed,
        "chat": {
            **chatted,
            "in_process_per_s": local["per_s"],
            "ratio": round(chatted["per_s"] / local["per_s"], 3),
        },
        "cycle": {
            "count": args.cycles,
            "p50_s": round(statistics.median(t for t, _ in cycles), 2),
            "p99_s": round(percentile([t for t, _ in cycles], 99), 2),
            "statuses": [status for _, status in cycles],
        },
    }


async def instances_at(db: str, size: int, args: argparse.Namespace) -> dict[str, float]:
    """GET /api/v1/instances?limit=50 alone, on a fleet of `size`."""
    process, url, key = await serve(db, size)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
            await client.get("/api/v1/instances")  # warm

            async def instances(_: int) -> None:
                assert (await client.get("/api/v1/instances", params={"limit": 50})).status_code == 200

            return await load(args.requests, args.concurrency, instances)
    finally:
        process.terminate()
        process.wait(timeout=30)


def postgres_schema() -> str | None:
    try:
        import psycopg

        schema = f"bench_{secrets.token_hex(4)}"
        with psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return f"{POSTGRES}?options=-csearch_path%3D{schema}"
    except Exception:  # no server: the SQLite numbers still stand
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--turns", type=int, default=120)
    parser.add_argument("--cycles", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--size", type=int, default=600)
    parser.add_argument("--large-size", type=int, default=10_000)
    args = parser.parse_args()
    result: dict[str, Any] = {"concurrency": args.concurrency, "fleet": args.size}
    with tempfile.TemporaryDirectory() as tmp:
        result["sqlite"] = asyncio.run(measure(f"sqlite:///{Path(tmp) / 'bench.db'}", args))
        large = asyncio.run(instances_at(f"sqlite:///{Path(tmp) / 'large.db'}", args.large_size, args))
        small = asyncio.run(instances_at(f"sqlite:///{Path(tmp) / 'small.db'}", args.size, args))
        # Measured back to back, so the ratio compares like with like on a busy machine.
        result["instances_by_fleet_size"] = {
            str(args.size): small, str(args.large_size): large,
            "ratio": round(small["per_s"] / large["per_s"], 2),
        }  # fmt: skip
    schema = postgres_schema()
    try:
        result["postgresql"] = asyncio.run(measure(schema, args)) if schema else "skipped: no server"
    finally:
        if schema:  # the server is shared: nothing the benchmark wrote outlives it
            import psycopg

            with psycopg.connect(POSTGRES, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema.rsplit('%3D', 1)[1]} CASCADE")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
