"""Cost anomalies kept: what the detector found each time it ran, and what people said of it.

One row per anomaly (its series and first day). A later run that finds it again updates its figures and
keeps its status; a run that finds one not seen before opens it, and that is the one time it is new —
however many replicas or cron jobs run the check, the insert decides. People acknowledge or resolve an
anomaly, and may say what it was (not an anomaly, expected, real), as AWS Cost Anomaly Detection's
feedback does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import JSON, Column, Date, DateTime, String, Table, select, update

from graphs.database import Database, UtcDatetime, metadata
from tools.analysis.root_cause import FoundAnomaly

anomalies = Table(
    "optiinfra_anomalies",
    metadata,
    Column("key", String(400), primary_key=True),  # dimension=value@first day: the same anomaly each run
    Column("dimension", String(64), nullable=False),
    Column("value", String(300), nullable=False),
    Column("kind", String(16), nullable=False),  # spike | new_spend
    Column("first_day", Date, nullable=False, index=True),
    Column("last_day", Date, nullable=False),
    Column("finding", JSON, nullable=False),  # the FoundAnomaly: figures, severity, root cause
    Column("status", String(16), nullable=False, index=True),  # open | acknowledged | resolved
    Column("feedback", String(32)),  # not_an_anomaly | expected | real
    Column("found_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(128), nullable=False),
)

Status = Literal["open", "acknowledged", "resolved"]
STATUSES: tuple[Status, ...] = ("open", "acknowledged", "resolved")
Feedback = Literal["not_an_anomaly", "expected", "real"]
FEEDBACK: tuple[Feedback, ...] = ("not_an_anomaly", "expected", "real")


class StoredAnomaly(BaseModel):
    key: str
    status: Status
    feedback: Feedback | None = None
    found_at: UtcDatetime
    updated_at: UtcDatetime
    updated_by: str
    finding: FoundAnomaly


class AnomalyNotFoundError(LookupError):
    """No anomaly has that key."""


class AnomalyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, found: list[FoundAnomaly], at: datetime | None = None) -> list[str]:
        """Keep what a run found: new anomalies opened, known ones updated. Returns the new ones' keys."""
        at = at or datetime.now(UTC)
        opened = []
        async with self.db.transaction() as conn:
            for anomaly in found:
                row = {
                    "key": anomaly.key, "dimension": anomaly.dimension, "value": anomaly.value,
                    "kind": anomaly.kind, "first_day": anomaly.start, "last_day": anomaly.end,
                    "finding": anomaly.model_dump(mode="json"), "status": "open", "found_at": at,
                    "updated_at": at, "updated_by": "optiinfra",
                }  # fmt: skip
                insert = self.db.insert_ignoring(anomalies, ["key"]).values(row).returning(anomalies.c.key)
                if (await conn.execute(insert)).first() is not None:
                    opened.append(anomaly.key)
                    continue
                again = {k: row[k] for k in ("kind", "last_day", "finding")}
                await conn.execute(update(anomalies).where(anomalies.c.key == anomaly.key).values(again))
        return opened

    async def anomalies(
        self, status: Status | None = None, since: date | None = None, kind: str | None = None
    ) -> list[StoredAnomaly]:
        """Largest impact first; `since`: those still running on or after that day."""
        query = select(anomalies)
        if status is not None:
            query = query.where(anomalies.c.status == status)
        if since is not None:
            query = query.where(anomalies.c.last_day >= since)
        if kind is not None:
            query = query.where(anomalies.c.kind == kind)
        async with self.db.transaction() as conn:
            rows = [_stored(r._asdict()) for r in await conn.execute(query)]
        return sorted(rows, key=lambda a: (-a.finding.impact_usd, a.key))

    async def get(self, key: str) -> StoredAnomaly:
        async with self.db.transaction() as conn:
            row = (await conn.execute(select(anomalies).where(anomalies.c.key == key))).first()
        if row is None:
            raise AnomalyNotFoundError(f"no anomaly '{key}' (see `optiinfra anomalies list`)")
        return _stored(row._asdict())

    async def update(
        self, key: str, by: str, status: Status | None = None, feedback: Feedback | None = None
    ) -> StoredAnomaly:
        """A person's word on an anomaly: its status, what it was, or both."""
        values: dict[str, object] = {"updated_at": datetime.now(UTC), "updated_by": by}
        if status is not None:
            values["status"] = status
        if feedback is not None:
            values["feedback"] = feedback
        async with self.db.transaction() as conn:
            done = await conn.execute(update(anomalies).where(anomalies.c.key == key).values(values))
        if not done.rowcount:
            raise AnomalyNotFoundError(f"no anomaly '{key}' (see `optiinfra anomalies list`)")
        return await self.get(key)


def _stored(row: dict[str, object]) -> StoredAnomaly:
    return StoredAnomaly.model_validate(row | {"finding": FoundAnomaly.model_validate(row["finding"])})
