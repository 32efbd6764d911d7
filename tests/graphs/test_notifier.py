"""The notifier on every database: a notice reaches the channels that want it, once however many processes
publish it; a failed delivery is retried with backoff and given up on, in the log; a test send says how it
went."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from graphs.database import Database
from graphs.notification_store import ChannelError
from graphs.notifier import Notifier, RetryPolicy
from tests.receivers import http_receiver
from tools.channels.notice import Notice
from tools.channels.subscription import Channel
from tools.channels.webhook import WebhookTarget
from tools.models import InstanceFilter

START = datetime(2026, 6, 17, 6, 0, tzinfo=UTC)


def notice(key: str, **changes: object) -> Notice:
    base = Notice(key=key, event="budget_threshold", severity="warning", title="Budget ml: 80 % crossed",
                  text="Budget ml has spent 80 % of its amount.", at=START,
                  scope=InstanceFilter(tags={"team": "ml"}), link="/api/v1/budgets/ml")  # fmt: skip
    return base.model_copy(update=changes)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


async def test_a_notice_reaches_each_channel_that_wants_it_once_whoever_publishes(db_url: str) -> None:
    first = await Database.open(db_url)
    second = await Database.open(db_url) if db_url != "memory" else first
    try:
        with http_receiver() as everything, http_receiver() as ml_only, http_receiver() as web_only:
            a = Notifier(first, public_url="https://optiinfra.example.com")
            b = Notifier(second, public_url="https://optiinfra.example.com")
            await a.store.add(Channel(name="all", target=WebhookTarget(url=everything.url)), "alice")
            await a.store.add(Channel(name="ml", target=WebhookTarget(url=ml_only.url),
                                      scope=InstanceFilter(tags={"team": "ml"})), "alice")  # fmt: skip
            await a.store.add(Channel(name="web", target=WebhookTarget(url=web_only.url),
                                      scope=InstanceFilter(tags={"team": "web"})), "alice")  # fmt: skip
            with pytest.raises(ChannelError, match="exists already"):
                await b.store.add(Channel(name="all", target=WebhookTarget(url=web_only.url)), "bob")
            made = await asyncio.gather(*(n.publish(notice("budget_threshold/ml/2026-06-01/actual:80"))
                                          for n in (a, b, a, b)))  # fmt: skip
            assert sorted(d.channel for ds in made for d in ds) == ["all", "ml"]
            assert len(everything.posts) == len(ml_only.posts) == 1 and not web_only.posts
            assert everything.posts[0].json()["link"] == "https://optiinfra.example.com/api/v1/budgets/ml"
            log = await a.store.deliveries()
            assert sorted((d.channel, d.status, d.attempts) for d in log) == [
                ("all", "sent", 1),
                ("ml", "sent", 1),
            ]
    finally:
        await first.close()
        if second is not first:
            await second.close()


async def test_a_failed_delivery_is_retried_with_backoff_then_given_up() -> None:
    db = await Database.open("memory")
    clock = Clock()
    notifier = Notifier(db, retry=RetryPolicy(attempts=4, first_delay_seconds=30), now=clock)
    try:
        with http_receiver() as receiver:
            await notifier.store.add(Channel(name="hook", target=WebhookTarget(url=receiver.url)), "alice")
            receiver.answers = [503, 503]  # down twice, then up
            (first,) = await notifier.publish(notice("n-1"))
            assert (first.status, first.attempts, first.last_error) == ("pending", 1, "HTTP 503: try later")
            assert first.next_attempt_at == START + timedelta(seconds=30)
            assert await notifier.deliver_due() == []  # not due yet
            clock.now += timedelta(seconds=30)
            (second,) = await notifier.deliver_due()
            assert second.status == "pending" and second.next_attempt_at == clock.now + timedelta(seconds=60)
            clock.now += timedelta(seconds=60)
            (third,) = await notifier.deliver_due()
            assert (third.status, third.attempts, third.last_error) == ("sent", 3, None)
            assert len(receiver.posts) == 3
            assert len({p.headers["x-optiinfra-delivery"] for p in receiver.posts}) == 1  # one delivery id

            receiver.answers = [500] * 10  # down for good
            await notifier.publish(notice("n-2"))
            for wait in (30, 60, 120):
                clock.now += timedelta(seconds=wait)
                await notifier.deliver_due()
            (gone,) = await notifier.store.deliveries(status="failed")
            assert gone.attempts == 4 and gone.last_error == "gave up after 4 attempt(s): HTTP 500: try later"
            clock.now += timedelta(days=1)
            assert await notifier.deliver_due() == []

            receiver.answers = [400]  # refused outright: no retry
            (refused,) = await notifier.publish(notice("n-3"))
            assert (refused.status, refused.attempts, refused.last_error) == (
                "failed",
                1,
                "HTTP 400: no_service",
            )
    finally:
        await db.close()


async def test_a_test_send_says_how_it_went_and_removal_stops_deliveries() -> None:
    db = await Database.open("memory")
    notifier = Notifier(db)
    try:
        with http_receiver() as receiver:
            await notifier.store.add(Channel(name="hook", target=WebhookTarget(url=receiver.url),
                                             events=["anomaly_opened"]), "alice")  # fmt: skip
            sent = await notifier.test("hook", "alice")  # whatever it subscribes to
            assert sent.status == "sent" and receiver.posts[0].json()["facts"] == {"test": True}
            assert not await notifier.publish(notice("n-1"))  # a budget alert: not this channel's
            receiver.answers = [503]
            (pending,) = await notifier.publish(notice("a-1", event="anomaly_opened"))
            await notifier.store.remove("hook")
            notifier.now = lambda: datetime.now(UTC) + timedelta(hours=1)
            (dropped,) = await notifier.deliver_due()
            assert dropped.id == pending.id and dropped.status == "failed"
            assert dropped.last_error == "the channel was removed"
        with pytest.raises(ChannelError, match="no channel named 'hook'"):
            await notifier.test("hook", "alice")
    finally:
        await db.close()
