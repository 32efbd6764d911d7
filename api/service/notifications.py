"""/api/v1/notifications: channels (webhook, Slack, e-mail) with what each subscribes to, a test send, and
the delivery log. What is returned never holds a channel's secrets (URLs, signing keys, passwords)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from api.service.problems import Problem
from api.service.schemas import Strict
from api.service.security import Caller, require
from graphs.notification_store import ChannelError, Delivery, DeliveryStatus, NotificationStore
from graphs.notifier import Notifier
from tools.channels.subscription import Channel, ChannelView

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
Name = Annotated[str, Path(max_length=64)]


class ChannelIn(Strict, Channel):
    """`{"name", "target": {"kind": "webhook"|"slack"|"email", …}, "events"?, "min_severity"?, "scope"?}`"""


def _notifier(request: Request) -> Notifier:
    notifier: Notifier = request.app.state.rollouts.notifier
    return notifier


def _store(request: Request) -> NotificationStore:
    return _notifier(request).store


@router.get("", response_model=list[ChannelView])
async def list_channels(
    request: Request, _: Annotated[Caller, Depends(require("read"))]
) -> list[ChannelView]:
    """Every channel: what it reaches (without secrets) and which events it gets."""
    return [s.channel.shown() for s in await _store(request).channels()]


@router.post("", response_model=ChannelView, status_code=201)
async def add_channel(
    request: Request, body: ChannelIn, caller: Annotated[Caller, Depends(require("manage"))]
) -> ChannelView:
    """Add a channel; 409 if the name is taken."""
    channel = Channel.model_validate(body.model_dump())
    try:
        await _store(request).add(channel, caller.name)
    except ChannelError as exc:
        raise Problem(409, str(exc)) from None
    return channel.shown()


@router.get("/deliveries", response_model=list[Delivery])
async def deliveries(
    request: Request,
    _: Annotated[Caller, Depends(require("read"))],
    status: DeliveryStatus | None = None,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Delivery]:
    """The delivery log, newest first: each notice to each channel, sent, pending (with its next attempt)
    or failed (given up, with the last error)."""
    return await _store(request).deliveries(status, channel, limit)


@router.get("/{name}", response_model=ChannelView)
async def get_channel(
    request: Request, name: Name, _: Annotated[Caller, Depends(require("read"))]
) -> ChannelView:
    try:
        return (await _store(request).get(name)).channel.shown()
    except ChannelError as exc:
        raise Problem(404, str(exc)) from None


@router.post("/{name}/test", response_model=Delivery)
async def test_channel(
    request: Request, name: Name, caller: Annotated[Caller, Depends(require("manage"))]
) -> Delivery:
    """Send a test notice now, whatever the channel subscribes to; the answer says how it went."""
    try:
        return await _notifier(request).test(name, caller.name)
    except ChannelError as exc:
        raise Problem(404, str(exc)) from None


@router.delete("/{name}", status_code=204)
async def remove_channel(
    request: Request, name: Name, _: Annotated[Caller, Depends(require("manage"))]
) -> None:
    try:
        await _store(request).remove(name)
    except ChannelError as exc:
        raise Problem(404, str(exc)) from None
