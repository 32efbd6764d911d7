"""Telling people: a notice goes to every channel that wants it, once, with retries, and the log says how
each delivery went.

`publish` routes a notice to the channels whose subscription takes it (event, severity, part of the fleet),
records one delivery per channel — unless the notice was published before, by this process or another:
then nothing is sent again — and makes the first attempt at once. A failed attempt that may work later is
retried with exponential backoff (`deliver_due`, which the service's scheduler and `optiinfra finops check`
call) until it is sent or the attempts run out: then it is `failed`, with its last error, in the log.
Publishing never raises: a notification that cannot be sent must not stop a rollout or a check.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field

from graphs.database import Database
from graphs.notification_store import ChannelError, Delivery, NotificationStore
from tools.channels.http import DeliveryError
from tools.channels.notice import Notice
from tools.channels.subscription import Channel

log = logging.getLogger("optiinfra.notifications")
NoticeSink = Callable[[Notice], Awaitable[None]]


class RetryPolicy(BaseModel):
    attempts: int = Field(5, ge=1, le=20, description="Attempts before a delivery is given up")
    first_delay_seconds: float = Field(
        30.0, gt=0, description="Wait after the first failure; doubles each time"
    )
    max_delay_seconds: float = Field(1800.0, gt=0)

    def delay(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failed attempt."""
        return timedelta(seconds=min(self.first_delay_seconds * 2 ** (attempts - 1), self.max_delay_seconds))


def _wall_clock() -> datetime:
    return datetime.now(UTC)


class Notifier:
    """Notices to channels, on one database. `public_url` is where people reach the service: links in
    notices are made from it (none without it). `now` is the wall clock, which retries are timed on."""

    def __init__(
        self,
        db: Database,
        public_url: str | None = None,
        retry: RetryPolicy | None = None,
        now: Callable[[], datetime] = _wall_clock,
    ) -> None:
        self.store = NotificationStore(db)
        self.public_url = public_url.rstrip("/") if public_url else None
        self.retry = retry or RetryPolicy()
        self.now = now

    async def publish(self, notice: Notice) -> list[Delivery]:
        """Send `notice` to the channels that want it; returns the deliveries this call made (none when it
        was published before). Never raises: a failure is logged, and retried when it may work later."""
        try:
            notice = self._linked(notice)
            wanting = {
                s.channel.name: s.channel for s in await self.store.channels() if s.channel.wants(notice)
            }
            made = await self.store.enqueue(notice, list(wanting), self.now())
            return [d for d in [await self._attempt(i, wanting) for i in made] if d is not None]
        except Exception:
            log.exception("could not publish %s", notice.key)
            return []

    async def deliver_due(self) -> list[Delivery]:
        """Retry the deliveries whose next attempt is due; returns how each went."""
        done = []
        for delivery_id in await self.store.due(self.now()):
            outcome = await self._attempt(delivery_id)
            if outcome is not None:
                done.append(outcome)
        return done

    async def test(self, name: str, by: str) -> Delivery:
        """Send a test notice to one channel, whatever it subscribes to, once; returns how it went (raises
        ChannelError for an unknown channel)."""
        stored = await self.store.get(name)
        now = self.now()
        notice = Notice(
            key=f"test/{name}/{now.isoformat()}/{secrets.token_hex(3)}",
            event="approval_requested",
            severity="info",
            title=f"Test notification for channel {name}",
            text=f"{by} sent this to check that the channel reaches you: {stored.channel.target.describe()}.",
            at=now,
            link=self.public_url,
            facts={"test": True},
        )
        made = await self.store.enqueue(notice, [name], now)
        outcome = await self._attempt(made[0], {name: stored.channel}, retry=False)
        if outcome is None:  # only a concurrent retry could have claimed it in between
            raise ChannelError(f"the test delivery to '{name}' is being sent by another process")
        return outcome

    async def _attempt(
        self, delivery_id: int, channels: dict[str, Channel] | None = None, retry: bool = True
    ) -> Delivery | None:
        """One attempt at a delivery, if it is due and nobody else holds it; `channels`: those at hand.
        `retry=False` for a test send, which says how it went now and is not tried again later."""
        now = self.now()
        delivery = await self.store.claim(delivery_id, now)
        if delivery is None:
            return None  # sent, given up, not due, or another process is sending it
        try:
            channel = (channels or {}).get(delivery.channel) or (
                await self.store.get(delivery.channel)
            ).channel
            await channel.target.send(delivery.notice, delivery.identity)
        except ChannelError:
            return await self.store.settle(delivery_id, "failed", now, "the channel was removed")
        except DeliveryError as exc:
            if retry and exc.retryable and delivery.attempts < self.retry.attempts:
                retry_at = now + self.retry.delay(delivery.attempts)
                return await self.store.settle(delivery_id, "pending", now, exc.message, retry_at)
            if not retry:  # a test send: its caller says how it went
                return await self.store.settle(delivery_id, "failed", now, exc.message)
            log.warning("notification %s to %s failed: %s", delivery.notice_key, delivery.channel,
                        exc.message)  # fmt: skip
            why = f"gave up after {delivery.attempts} attempt(s): " if exc.retryable else ""
            return await self.store.settle(delivery_id, "failed", now, why + exc.message)
        return await self.store.settle(delivery_id, "sent", now)

    def _linked(self, notice: Notice) -> Notice:
        """A notice's link is a path in the service; made absolute where the service's address is known."""
        if notice.link is None or "://" in notice.link:
            return notice
        link = f"{self.public_url}{notice.link}" if self.public_url else None
        return notice.model_copy(update={"link": link})
