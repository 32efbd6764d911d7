"""What a notification says: an event, in words and figures, with the part of the fleet it is about."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from tools.channels.kinds import EventKind
from tools.models import InstanceFilter

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = get_args(Severity)  # lowest first


class Notice(BaseModel):
    """One event to tell people about. Its `key` is the event's identity: the same event noticed twice —
    by two replicas, or by a step re-run after a crash — has the same key and is sent once."""

    key: str = Field(max_length=300, description="e.g. approval_requested/wf-1a2b")
    event: EventKind
    severity: Severity
    title: str = Field(max_length=200)
    text: str = Field(description="The event in a few sentences, with its figures")
    at: datetime = Field(description="When it happened (the cloud's time for rollouts and budgets)")
    scope: InstanceFilter = Field(
        default_factory=InstanceFilter,
        description="The part of the fleet it is about: provider, region, app, tags",
    )
    link: str | None = Field(None, description="Where to look, or to decide (an approval request)")
    action: str | None = Field(None, description="What to do about it, as a command a person can paste")
    facts: dict[str, Any] = Field(default_factory=dict, description="The figures, for machines")


def at_least(severity: Severity, floor: Severity) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(floor)
