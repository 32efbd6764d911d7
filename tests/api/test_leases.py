"""Workflow leases on every database: one owner at a time, renewed by its owner, taken over once expired."""

from __future__ import annotations

from graphs.database import SCHEMA_VERSION, Database
from graphs.service_store import ServiceStore


async def test_one_owner_at_a_time_until_the_lease_expires_or_is_released(db_url: str) -> None:
    database = await Database.open(db_url)
    db = ServiceStore(database)
    try:
        assert await db.acquire_lease("wf-1", "a", 60)
        assert not await db.acquire_lease("wf-1", "b", 60)  # a holds it
        assert await db.acquire_lease("wf-1", "a", 60)  # a renews
        assert await db.acquire_lease("wf-2", "b", 60)  # another workflow is another lease
        await db.release_lease("wf-1", "b")  # not b's to release
        assert not await db.acquire_lease("wf-1", "b", 60)
        await db.release_lease("wf-1", "a")
        assert await db.acquire_lease("wf-1", "b", 60)
        assert await db.acquire_lease("wf-3", "a", -1)  # already expired: as a dead replica leaves it
        assert await db.acquire_lease("wf-3", "b", 60)
        assert not await db.acquire_lease("wf-3", "a", 60)
        assert await database.schema_version() == SCHEMA_VERSION
    finally:
        await database.close()
