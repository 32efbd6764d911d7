"""Storage class moves against the simulator's own figures: each bucket's 30 days on the bill are its class's
storage and retrieval at list prices; each move advised saves what the two classes' prices say for the
reads its REST API shows, pays its one-off cost back within three months, and is never one that costs more
in reads than it saves in storage."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from mock_cloud import CloudSimulator
from mock_cloud.catalog.buckets import STORAGE_CLASSES
from mock_cloud.catalog.storage import REGION_FACTORS
from mock_cloud.server import create_app
from tools.adapters.simulator import SimulatorProvider
from tools.analysis.ledger import read_ledger

MONTH_DAYS = 730 / 24


def monthly(bucket: dict[str, object], storage_class: str) -> float:
    """A month of a bucket in a class, from the published prices alone."""
    provider, region = str(bucket["provider"]), str(bucket["region"])
    cls = STORAGE_CLASSES[(provider, storage_class)]
    factor = REGION_FACTORS.get(provider, {}).get(region, 1.0)
    size, reads = float(bucket["size_gb"]), float(bucket["reads_gb_per_day"])  # type: ignore[arg-type]
    return (size * cls.gb_month + reads * MONTH_DAYS * cls.retrieval_gb) * factor


@pytest.fixture(scope="module")
def sim() -> CloudSimulator:
    return CloudSimulator(7, 600)


def test_a_buckets_month_on_the_bill_is_its_class_at_list_prices(sim: CloudSimulator) -> None:
    rest = TestClient(create_app(sim))
    buckets = rest.get("/buckets", params={"limit": 1000}).json()["buckets"]
    now = datetime.fromisoformat(rest.get("/clock").json()["now"])
    settled = [b for b in buckets if (now - datetime.fromisoformat(b["class_since"])).days > 31]
    billed = rest.get("/costs", params={"group_by": "instance", "days": 30}).json()
    by_key = {g["key"]: g["amount"] for g in billed["groups"]}
    assert len(settled) > 50
    for b in settled:
        expected = monthly(b, b["storage_class"]) * 30 / MONTH_DAYS
        assert by_key[b["name"]] == pytest.approx(expected, rel=1e-6, abs=1e-5)


def test_each_move_saves_what_the_prices_say_and_pays_back(sim: CloudSimulator) -> None:
    rest = TestClient(create_app(sim))
    ledger = read_ledger(SimulatorProvider(sim), kinds=["bucket_tier"])
    found = ledger.opportunities
    assert ledger.buckets_analysed == rest.get("/buckets").json()["total"]
    assert len(found) > 30 and {r.resource for r in found} == {"bucket"}
    kinds_of_move = {"rarely-read", "read-more-than-it-saves"}
    assert {r.finding for r in found} == kinds_of_move  # colder for the unread, back for the busy
    for r in found:
        b = rest.get(f"/buckets/{r.instance_id}").json()
        assert b["storage_class"] == r.current
        saving = monthly(b, r.current) - monthly(b, r.target)
        assert r.monthly_savings == pytest.approx(saving, abs=0.01)
        assert STORAGE_CLASSES[(b["provider"], r.target)].online  # never to a class read after a restore
        assert "paid back in" in r.reasons[2]


def test_a_move_that_would_cost_more_in_reads_is_not_advised(sim: CloudSimulator) -> None:
    rest = TestClient(create_app(sim))
    advised = {
        r.instance_id for r in read_ledger(SimulatorProvider(sim), kinds=["bucket_tier"]).opportunities
    }
    busy = [b for b in rest.get("/buckets").json()["buckets"] if b["storage_class"] in ("STANDARD", "Hot")
            and b["reads_gb_per_day"] > b["size_gb"]]  # fmt: skip
    assert busy and not advised & {b["name"] for b in busy}


def test_a_class_not_priced_here_is_left_alone() -> None:
    """S3 Intelligent-Tiering moves objects by itself; One Zone-IA is not in the catalog: neither is advised,
    and neither breaks the ledger."""
    from datetime import timedelta

    from tools.analysis.buckets import bucket_tiers
    from tools.analysis.settings import StorageSettings
    from tools.models import Bucket

    now = datetime.fromisoformat("2026-06-17T06:00:00+00:00")
    made = now - timedelta(days=400)
    unread = [
        Bucket(name=f"logs-{c.lower()}", provider="aws", region="us-east-1", storage_class=c, size_gb=5000.0,
               objects=10, reads_gb_per_day=0.0, created_at=made, class_since=made)
        for c in ("INTELLIGENT_TIERING", "ONEZONE_IA", "STANDARD")
    ]  # fmt: skip
    advised = bucket_tiers(unread, now, StorageSettings())
    assert [r.instance_id for r in advised] == ["logs-standard"]
