"""LangGraph checkpoint savers from one database URL: `memory`, `sqlite:///path`, `postgresql://…`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
import psycopg
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from graphs.database import SCHEMA_LOCK, SCHEMA_LOCK_POLL_SECONDS
from graphs.database_url import DatabaseUrl


@asynccontextmanager
async def open_checkpointer(
    url: str, state_types: Iterable[type] = ()
) -> AsyncIterator[BaseCheckpointSaver[str]]:
    """The saver for `url`, ready to use (its tables created), closed on exit.

    `state_types` are the classes a graph keeps in its state: only they (and LangGraph's own safe types)
    are rebuilt from a checkpoint, so a tampered database cannot make the process import anything else.
    """
    serde = JsonPlusSerializer(allowed_msgpack_modules=list(state_types) or None)
    parsed = DatabaseUrl.parse(url)
    if parsed.kind == "memory":
        yield InMemorySaver(serde=serde)
    elif parsed.kind == "sqlite":
        async with aiosqlite.connect(parsed.target, timeout=30) as conn:
            await conn.execute("PRAGMA journal_mode=WAL")
            sqlite = AsyncSqliteSaver(conn, serde=serde)
            await sqlite.setup()
            yield sqlite
    else:
        async with AsyncPostgresSaver.from_conn_string(parsed.target, serde=serde) as postgres:
            async with _schema_lock(parsed.target):
                await postgres.setup()
            yield postgres


@asynccontextmanager
async def _schema_lock(conninfo: str) -> AsyncIterator[None]:
    """The database's schema lock (graphs.database.SCHEMA_LOCK), held on a connection of its own: replicas
    starting together set up the checkpoint tables in turn (at once, their migrations deadlock)."""
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
        # Polled (see graphs.database._schema_locked): a wait would stall the holder's CREATE INDEX
        # CONCURRENTLY, which waits for every open transaction, this waiting one included.
        while not await _try_lock(conn):
            await asyncio.sleep(SCHEMA_LOCK_POLL_SECONDS)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


async def _try_lock(conn: psycopg.AsyncConnection[Any]) -> bool:
    row = await (await conn.execute("SELECT pg_try_advisory_lock(%s)", (SCHEMA_LOCK,))).fetchone()
    return bool(row and row[0])
