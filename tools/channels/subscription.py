"""A channel: where notifications go (a webhook, Slack, e-mail) and which of them — its events, the least
severity, the part of the fleet — as AWS Cost Anomaly Detection's subscriptions have a threshold and
monitors. What is shown of it never holds a secret (webhook URLs, signing keys, SMTP passwords)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from tools.channels.email import EmailTarget
from tools.channels.notice import EventKind, Notice, Severity, at_least
from tools.channels.slack import SlackTarget
from tools.channels.webhook import WebhookTarget
from tools.models import InstanceFilter

Target = Annotated[WebhookTarget | SlackTarget | EmailTarget, Field(discriminator="kind")]


class Channel(BaseModel):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    target: Target
    events: list[EventKind] = Field(default_factory=list, description="The events it gets (none listed: all)")
    min_severity: Severity = Field("info", description="Only events at least this severe")
    scope: InstanceFilter = Field(
        default_factory=InstanceFilter,
        description="Only events about this part of the fleet (provider, region, application, tags)",
    )

    @field_validator("scope")
    @classmethod
    def _fleet_part(cls, scope: InstanceFilter) -> InstanceFilter:
        if scope.state is not None or scope.pricing_model is not None:
            raise ValueError(
                "a channel's scope is a part of the fleet: provider, region, application or tags"
            )
        return scope

    def wants(self, notice: Notice) -> bool:
        return (
            (not self.events or notice.event in self.events)
            and at_least(notice.severity, self.min_severity)
            and covers(self.scope, notice.scope)
        )

    def shown(self) -> ChannelView:
        return ChannelView(
            name=self.name,
            kind=self.target.kind,
            target=self.target.describe(),
            events=self.events,
            min_severity=self.min_severity,
            scope=self.scope,
        )


class ChannelView(BaseModel):
    """A channel as people see it: what it reaches, described without its secrets."""

    name: str
    kind: str
    target: str = Field(description="e.g. 'webhook to https://hooks.example.com/… (signed)'")
    events: list[EventKind]
    min_severity: Severity
    scope: InstanceFilter


def covers(wanted: InstanceFilter, about: InstanceFilter) -> bool:
    """Whether an event about `about` falls in the part of the fleet `wanted` names (every field it sets)."""
    return all(
        getattr(wanted, field) is None or getattr(wanted, field) == getattr(about, field)
        for field in ("provider", "region", "application")
    ) and all(about.tags.get(k) == v for k, v in wanted.tags.items())
