"""Notification benchmark: what the delivery log costs over a plain post.

Publishes N notices, each to two webhook channels on a local receiver (so 2N deliveries): routed by the
channels' subscriptions, recorded once per notice and channel, claimed, signed, posted and settled — against a
baseline in the same run that only signs and posts the same 2N bodies with the same HTTP client code, no
database. Then the same N notices published again (the de-duplicated path: every delivery found already,
nothing sent). Medians of --repeats, per database kind.

Usage: python bench/bench_notifications.py [--notices 200] [--repeats 5] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graphs.database import Database  # noqa: E402
from graphs.notifier import Notifier  # noqa: E402
from tests.receivers import http_receiver  # noqa: E402
from tools.channels.notice import Notice  # noqa: E402
from tools.channels.subscription import Channel  # noqa: E402
from tools.channels.webhook import WebhookTarget  # noqa: E402
from tools.models import InstanceFilter  # noqa: E402

SECRET = "bench-signing-key-0123456789"


def notices(n: int, run: int) -> list[Notice]:
    at = datetime(2026, 6, 17, 6, tzinfo=UTC)
    return [
        Notice(key=f"budget_threshold/b{run}-{i}/2026-06-01/actual:80", event="budget_threshold",
               severity="warning", title=f"Budget b{i}: 80 % crossed", text="Budget spent 80 %.", at=at,
               scope=InstanceFilter(tags={"team": "ml"}), facts={"i": i})
        for i in range(n)
    ]  # fmt: skip


async def baseline(url: str, batch: list[Notice]) -> float:
    target = WebhookTarget(url=url, secret=SECRET)
    started = time.perf_counter()
    for notice in batch:
        for channel in ("a", "b"):
            await target.send(notice, f"{notice.key}/{channel}")
    return time.perf_counter() - started


async def one_database(db_url: str, n: int, repeats: int) -> dict[str, Any]:
    with http_receiver() as receiver:
        db = await Database.open(db_url)
        try:
            notifier = Notifier(db)
            for name in ("a", "b"):
                target = WebhookTarget(url=receiver.url, secret=SECRET)
                channel = Channel(name=name, target=target, events=["budget_threshold"])
                await notifier.store.add(channel, "bench")
            plain, logged, again = [], [], []
            for run in range(repeats):
                batch = notices(n, run)
                plain.append(await baseline(receiver.url, batch))
                started = time.perf_counter()
                for notice in batch:
                    await notifier.publish(notice)
                logged.append(time.perf_counter() - started)
                started = time.perf_counter()
                for notice in batch:
                    await notifier.publish(notice)
                again.append(time.perf_counter() - started)
            sent = len(await notifier.store.deliveries(status="sent", limit=10**6))
        finally:
            await db.close()
    deliveries = 2 * n
    return {
        "database": db_url.split(":")[0],
        "deliveries_per_run": deliveries,
        "posted": len(receiver.posts),
        "sent_in_log": sent,
        "plain_post_ms_per_delivery": round(statistics.median(plain) / deliveries * 1000, 3),
        "logged_ms_per_delivery": round(statistics.median(logged) / deliveries * 1000, 3),
        "ratio_logged_to_plain": round(statistics.median(logged) / statistics.median(plain), 2),
        "republished_ms_per_notice": round(statistics.median(again) / n * 1000, 3),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("OPTIINFRA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    args = parser.parse_args()
    results = []
    with TemporaryDirectory() as tmp:
        results.append(await one_database(f"sqlite:///{tmp}/bench.db", args.notices, args.repeats))
    import psycopg

    schema = f"bench_notify_{os.getpid()}"
    with psycopg.connect(args.postgres, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        url = f"{args.postgres}?options=-csearch_path%3D{schema}"
        results.append(await one_database(url, args.notices, args.repeats))
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
