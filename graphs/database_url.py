"""A database URL as users write it, and what it means to SQLAlchemy and to LangGraph's savers.

Apart from the database module so that reading a URL (the command line's `--db`) loads no database driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_DATABASE_URL = "sqlite:///optiinfra.db"


@dataclass(frozen=True)
class DatabaseUrl:
    """A user's database URL, and what it means to SQLAlchemy and to LangGraph's savers."""

    url: str
    kind: Literal["memory", "sqlite", "postgresql"]
    sqlalchemy: str
    target: str  # the SQLite file path or the PostgreSQL conninfo the checkpoint savers take

    @classmethod
    def parse(cls, url: str) -> DatabaseUrl:
        if url in ("memory", ":memory:"):
            return cls(url, "memory", "sqlite+aiosqlite://", ":memory:")
        if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            path = url.removeprefix("sqlite:///")
            return cls(url, "sqlite", f"sqlite+aiosqlite:///{path}", path)
        for scheme in ("postgresql://", "postgres://"):
            if url.startswith(scheme):
                rest = url.removeprefix(scheme)
                return cls(url, "postgresql", f"postgresql+psycopg://{rest}", f"postgresql://{rest}")
        raise ValueError(f"unsupported database URL '{url}': use memory, sqlite:///PATH or postgresql://…")
