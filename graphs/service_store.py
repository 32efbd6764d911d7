"""The service's own tables: who may call it (API keys: a name, a role and only a hash of the key), who is
signed in to the console (sessions: only a hash of the cookie, the key it was opened with, its CSRF token),
which replica does what until when (leases: a workflow's driver, the scheduler's one runner), and how far in
the cloud's time a recurring duty has been done (marks: the off-hours schedules' enforcer)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import Column, DateTime, String, Table, delete, select, update

from graphs.database import Database, UtcDatetime, as_utc, metadata
from graphs.rollout.authority import Role

api_keys = Table(
    "optiinfra_api_keys",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)
# Who holds what, until when: a replica that dies stops renewing, and another takes over. The key is a
# workflow's id, or the name of a duty only one replica does at a time (the scheduler's).
leases = Table(
    "optiinfra_leases",
    metadata,
    Column("workflow_id", String(64), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

# How far in the cloud's time a recurring duty got: the next run takes over from there, on whichever replica.
marks = Table(
    "optiinfra_marks",
    metadata,
    Column("duty", String(64), primary_key=True),
    Column("done_through", DateTime(timezone=True), nullable=False),
)


# A console session: the browser holds a random token in an HttpOnly cookie; the table holds its hash, the
# API key it was opened with (its hash; None for --no-auth's local user), and the token forms must carry.
sessions = Table(
    "optiinfra_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("key_hash", String(64)),
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)


class ApiKey(BaseModel):
    name: str
    role: Role
    key_hash: str
    created_at: UtcDatetime
    revoked_at: UtcDatetime | None = None


class Session(BaseModel):
    token_hash: str
    key_hash: str | None = None
    csrf: str
    created_at: UtcDatetime
    expires_at: UtcDatetime


class ServiceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- API keys ---------------------------------------------------------------------------------------
    async def add_key(self, key: ApiKey) -> bool:
        """Store a key; False when its name is taken."""
        insert = self.db.insert_ignoring(api_keys, ["name"]).values(key.model_dump())
        async with self.db.transaction() as conn:
            return (await conn.execute(insert.returning(api_keys.c.name))).first() is not None

    async def key_by_hash(self, key_hash: str) -> ApiKey | None:
        async with self.db.transaction() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.key_hash == key_hash))).first()
        return ApiKey.model_validate(row._asdict()) if row else None

    async def keys(self) -> list[ApiKey]:
        async with self.db.transaction() as conn:
            rows = await conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.name))
            return [ApiKey.model_validate(r._asdict()) for r in rows]

    async def revoke_key(self, name: str) -> bool:
        """Revoke the key called `name`; False when there is no such key still in use."""
        statement = (
            update(api_keys)
            .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
        async with self.db.transaction() as conn:
            return (await conn.execute(statement)).rowcount == 1

    # -- console sessions -----------------------------------------------------------------------------------
    async def open_session(self, session: Session) -> None:
        async with self.db.transaction() as conn:
            # Expired ones go as new ones come: the table holds the live sessions and a few stale ones.
            await conn.execute(delete(sessions).where(sessions.c.expires_at < datetime.now(UTC)))
            await conn.execute(sessions.insert().values(session.model_dump()))

    async def session(self, token_hash: str) -> Session | None:
        """The live session with this token's hash (None: unknown, expired or signed out)."""
        query = select(sessions).where(
            sessions.c.token_hash == token_hash, sessions.c.expires_at > datetime.now(UTC)
        )
        async with self.db.transaction() as conn:
            row = (await conn.execute(query)).first()
        return Session.model_validate(row._asdict()) if row else None

    async def close_session(self, token_hash: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

    # -- leases: one holder at a time ---------------------------------------------------------------------
    async def acquire_lease(self, key: str, owner: str, seconds: float) -> bool:
        """Take (or renew) the lease on `key` for `seconds`; False while another owner's is still valid."""
        now = datetime.now(UTC)
        until = now + timedelta(seconds=seconds)
        row = {"workflow_id": key, "owner": owner, "expires_at": until}
        async with self.db.transaction() as conn:
            # RETURNING says whether the row went in: psycopg reports no rowcount (-1) for these inserts.
            insert = self.db.insert_ignoring(leases, ["workflow_id"]).values(row)
            if (await conn.execute(insert.returning(leases.c.workflow_id))).first() is not None:
                return True
            taken = await conn.execute(
                update(leases)
                .where(leases.c.workflow_id == key)
                .where((leases.c.owner == owner) | (leases.c.expires_at < now))
                .values(owner=owner, expires_at=until)
            )
            return taken.rowcount == 1

    async def release_lease(self, key: str, owner: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(delete(leases).where(leases.c.workflow_id == key, leases.c.owner == owner))

    # -- marks: how far a recurring duty got ---------------------------------------------------------------
    async def done_through(self, duty: str) -> datetime | None:
        async with self.db.transaction() as conn:
            found = (await conn.execute(select(marks.c.done_through).where(marks.c.duty == duty))).scalar()
        return None if found is None else as_utc(found)

    async def mark_done(self, duty: str, through: datetime) -> None:
        async with self.db.transaction() as conn:
            moved = await conn.execute(update(marks).where(marks.c.duty == duty).values(done_through=through))
            if moved.rowcount == 0:
                insert = self.db.insert_ignoring(marks, ["duty"]).values(duty=duty, done_through=through)
                await conn.execute(insert)
