"""Notification channels and the delivery log.

A delivery is one notice for one channel, kept once (the notice's key and the channel's name): a notice
published twice — by two replicas, or again after a crash — finds its deliveries there already and sends
nothing more. Each delivery is claimed before it is sent (a compare-and-set on its row), so two processes
never send the same one at once; its attempts, the next one's time and the last error are kept, and it ends
`sent` or `failed` (given up).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    String,
    Table,
    UniqueConstraint,
    delete,
    or_,
    select,
    update,
)

from graphs.database import Database, UtcDatetime, metadata
from tools.channels.notice import Notice
from tools.channels.subscription import Channel

channels = Table(
    "optiinfra_channels",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("channel", JSON, nullable=False),  # tools.channels.subscription.Channel, secrets included
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
deliveries = Table(
    "optiinfra_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_key", String(300), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("event", String(40), nullable=False),
    Column("notice", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),  # pending | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_until", DateTime(timezone=True)),
    Column("last_error", String(500)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("notice_key", "channel", name="optiinfra_delivery_once"),
)

DeliveryStatus = Literal["pending", "sent", "failed"]
# How long a claimed delivery is its claimer's: longer than a send can take (its timeouts are 10 s).
CLAIM_SECONDS = 60


class ChannelError(LookupError):
    """No channel of that name, or one of that name already."""


class StoredChannel(BaseModel):
    channel: Channel
    created_by: str
    created_at: UtcDatetime


class Delivery(BaseModel):
    """One notice for one channel, and how sending it went."""

    id: int
    notice_key: str
    channel: str
    event: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: UtcDatetime = Field(description="When it is tried next, while pending")
    last_error: str | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    notice: Notice

    @property
    def identity(self) -> str:
        """The same for every attempt of this notice to this channel (and ASCII, for an HTTP header)."""
        return hashlib.sha256(f"{self.notice_key}\n{self.channel}".encode()).hexdigest()[:32]


class NotificationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- channels ---------------------------------------------------------------------------------------
    async def add(self, channel: Channel, by: str) -> StoredChannel:
        row = {"name": channel.name, "channel": channel.model_dump(mode="json"), "created_by": by,
               "created_at": datetime.now(UTC)}  # fmt: skip
        insert = self.db.insert_ignoring(channels, ["name"]).values(row).returning(channels.c.name)
        async with self.db.transaction() as conn:
            if (await conn.execute(insert)).first() is None:
                raise ChannelError(f"a channel named '{channel.name}' exists already (remove it first)")
        return StoredChannel(channel=channel, created_by=by, created_at=row["created_at"])

    async def channels(self) -> list[StoredChannel]:
        async with self.db.transaction() as conn:
            rows = await conn.execute(select(channels).order_by(channels.c.name))
            return [_channel(r._asdict()) for r in rows]

    async def get(self, name: str) -> StoredChannel:
        async with self.db.transaction() as conn:
            row = (await conn.execute(select(channels).where(channels.c.name == name))).first()
        if row is None:
            raise ChannelError(f"no channel named '{name}' (see `optiinfra notify list`)")
        return _channel(row._asdict())

    async def remove(self, name: str) -> None:
        async with self.db.transaction() as conn:
            gone = await conn.execute(delete(channels).where(channels.c.name == name))
        if not gone.rowcount:
            raise ChannelError(f"no channel named '{name}' (see `optiinfra notify list`)")

    # -- deliveries ---------------------------------------------------------------------------------------
    async def enqueue(self, notice: Notice, names: list[str], now: datetime) -> list[int]:
        """A pending delivery of `notice` for each channel named that has none yet; returns the new ones'
        ids (none when the notice was published before, by this process or another)."""
        made = []
        body = notice.model_dump(mode="json")
        async with self.db.transaction() as conn:
            for name in names:
                row = {"notice_key": notice.key, "channel": name, "event": notice.event, "notice": body,
                       "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
                       "updated_at": now}  # fmt: skip
                insert = self.db.insert_ignoring(deliveries, ["notice_key", "channel"]).values(row)
                found = (await conn.execute(insert.returning(deliveries.c.id))).first()
                if found is not None:
                    made.append(int(found[0]))
        return made

    async def due(self, now: datetime, limit: int = 100) -> list[int]:
        """Pending deliveries whose next attempt is due and that nobody holds, oldest first."""
        query = (
            select(deliveries.c.id)
            .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now)
            .where(or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now))
            .order_by(deliveries.c.id)
            .limit(limit)
        )
        async with self.db.transaction() as conn:
            return [int(i) for (i,) in await conn.execute(query)]

    async def claim(self, delivery_id: int, now: datetime) -> Delivery | None:
        """Take the delivery for one attempt, if it is still pending, due and held by nobody: exactly one of
        several processes trying at once gets it."""
        statement = (
            update(deliveries)
            .where(deliveries.c.id == delivery_id, deliveries.c.status == "pending")
            .where(deliveries.c.next_attempt_at <= now)
            .where(or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until < now))
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS), attempts=deliveries.c.attempts + 1)
        )
        async with self.db.transaction() as conn:
            if (await conn.execute(statement)).rowcount != 1:
                return None
            row = (await conn.execute(select(deliveries).where(deliveries.c.id == delivery_id))).one()
        return _delivery(row._asdict())

    async def settle(
        self, delivery_id: int, status: DeliveryStatus, now: datetime, error: str | None = None,
        retry_at: datetime | None = None,
    ) -> Delivery:  # fmt: skip
        """Record an attempt's outcome: sent, failed for good, or pending again until `retry_at`."""
        values: dict[str, Any] = {"status": status, "claimed_until": None, "updated_at": now}
        values["last_error"] = error[:500] if error else None
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        statement = update(deliveries).where(deliveries.c.id == delivery_id).values(values)
        async with self.db.transaction() as conn:
            row = (await conn.execute(statement.returning(*deliveries.c))).one()
        return _delivery(row._asdict())

    async def delivery(self, delivery_id: int) -> Delivery:
        async with self.db.transaction() as conn:
            row = (await conn.execute(select(deliveries).where(deliveries.c.id == delivery_id))).one()
        return _delivery(row._asdict())

    async def deliveries(
        self, status: DeliveryStatus | None = None, channel: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        """The delivery log, newest first."""
        query = select(deliveries).order_by(deliveries.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(deliveries.c.status == status)
        if channel is not None:
            query = query.where(deliveries.c.channel == channel)
        async with self.db.transaction() as conn:
            return [_delivery(r._asdict()) for r in await conn.execute(query)]


def _channel(row: dict[str, Any]) -> StoredChannel:
    return StoredChannel(channel=Channel.model_validate(row["channel"]), created_by=row["created_by"],
                         created_at=row["created_at"])  # fmt: skip


def _delivery(row: dict[str, Any]) -> Delivery:
    return Delivery.model_validate(row | {"notice": Notice.model_validate(row["notice"])})
