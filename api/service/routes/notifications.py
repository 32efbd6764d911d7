"""/api/v1/notifications: channels (webhook, Slack, e-mail) with what each subscribes to, a test send, and
the delivery log. What is returned never holds a channel's secrets (URLs, signing keys, passwords)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.service.deps import Manager, NotifierDep, Reader
from api.service.problems import Problem
from api.service.schemas import Strict
from graphs.notification_store import ChannelError, Delivery, DeliveryStatus
from tools.channels.subscription import Channel, ChannelView

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
Name = Annotated[str, Path(max_length=64)]


class ChannelIn(Strict, Channel):
    """`{"name", "target": {"kind": "webhook"|"slack"|"email", …}, "events"?, "min_severity"?, "scope"?}`"""


@router.get("", response_model=list[ChannelView])
async def list_channels(notifier: NotifierDep, _: Reader) -> list[ChannelView]:
    """Every channel: what it reaches (without secrets) and which events it gets."""
    return [s.channel.shown() for s in await notifier.store.channels()]


@router.post("", response_model=ChannelView, status_code=201)
async def add_channel(body: ChannelIn, notifier: NotifierDep, caller: Manager) -> ChannelView:
    """Add a channel; 409 if the name is taken."""
    channel = Channel.model_validate(body.model_dump())
    try:
        await notifier.store.add(channel, caller.name)
    except ChannelError as exc:
        raise Problem(409, str(exc)) from None
    return channel.shown()


@router.get("/deliveries", response_model=list[Delivery])
async def deliveries(
    notifier: NotifierDep,
    _: Reader,
    status: DeliveryStatus | None = None,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Delivery]:
    """The delivery log, newest first: each notice to each channel, sent, pending (with its next attempt)
    or failed (given up, with the last error)."""
    return await notifier.store.deliveries(status, channel, limit)


@router.get("/{name}", response_model=ChannelView)
async def get_channel(name: Name, notifier: NotifierDep, _: Reader) -> ChannelView:
    try:
        return (await notifier.store.get(name)).channel.shown()
    except ChannelError as exc:
        raise Problem(404, str(exc)) from None


@router.post("/{name}/test", response_model=Delivery)
async def test_channel(name: Name, notifier: NotifierDep, caller: Manager) -> Delivery:
    """Send a test notice now, whatever the channel subscribes to; the answer says how it went."""
    try:
        return await notifier.test(name, caller.name)
    except ChannelError as exc:
        raise Problem(404, str(exc)) from None


@router.delete("/{name}", status_code=204)
async def remove_channel(name: Name, notifier: NotifierDep, _: Manager) -> None:
    try:
        await notifier.store.remove(name)
    except ChannelError as exc:
        raise Problem(404, str(exc)) from None
