"""LangGraph checkpoint savers from one database URL: `memory`, `sqlite:///path`, `postgresql://…`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from graphs.database import DatabaseUrl


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
            await postgres.setup()
            yield postgres
