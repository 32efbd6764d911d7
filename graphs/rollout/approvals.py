"""How many people a plan needs, of which role, and by when.

A deployment's approval policy has rules by money and risk — e.g. a plan that saves (or costs) 10,000 USD a
month or more, or holds a high-risk change, needs two approvers, one of them an admin — and levels with
deadlines on the cloud's clock: the approvers have 24 hours, then the request escalates to the admins, who
have 48 more; past the last deadline it expires and the workflow ends `expired`, with nothing changed.
Escalation widens who is told (the admins are notified); it takes the right to approve from no one.
Every way in (HTTP, chat, the command line) goes through these rules, in `Rollouts.take_decision`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

Risk = Literal["low", "medium", "high"]
_RISKS: tuple[Risk, ...] = ("low", "medium", "high")


class Signer(Protocol):
    """Who gave an approval, and as which role (a stored sign-off, or the caller about to give one)."""

    @property
    def by(self) -> str: ...

    @property
    def role(self) -> str: ...


class ApprovalRule(BaseModel):
    """When a plan needs more than one person: its monthly savings (or cost) reach `monthly_usd`, or one
    of its changes is at least as risky as `risk`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    monthly_usd: float | None = Field(None, ge=0, description="Savings or cost a month, USD, at or above")
    risk: Literal["medium", "high"] | None = Field(None, description="Any change this risky or more")
    approvers: int = Field(2, ge=1, le=5, description="Distinct people who must approve")
    admins: int = Field(0, ge=0, le=5, description="Of them, how many must be admins")

    @model_validator(mode="after")
    def _sound(self) -> ApprovalRule:
        if self.monthly_usd is None and self.risk is None:
            raise ValueError("a rule needs a monthly_usd or a risk to apply to")
        if self.admins > self.approvers:
            raise ValueError("admins are counted among the approvers: at most as many")
        return self

    def applies(self, monthly_usd: float, risk: Risk) -> bool:
        by_money = self.monthly_usd is not None and abs(monthly_usd) >= self.monthly_usd
        by_risk = self.risk is not None and _RISKS.index(risk) >= _RISKS.index(self.risk)
        return by_money or by_risk

    def describe(self) -> str:
        when = []
        if self.monthly_usd is not None:
            when.append(f"{self.monthly_usd:,.0f} USD/month or more")
        if self.risk is not None:
            when.append("any high-risk change" if self.risk == "high" else "any medium- or high-risk change")
        admins = f", {self.admins} of them admin(s)" if self.admins else ""
        return f"{' or '.join(when)}: {self.approvers} approvers{admins}"


class ApprovalLevel(BaseModel):
    """Who a request is addressed to, for how long (cloud hours) before it goes to the next level."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["approver", "admin"]
    hours: float = Field(gt=0, le=24 * 90, allow_inf_nan=False)


class ApprovalPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: tuple[ApprovalRule, ...] = Field((), description="Plans that need more than one approver")
    levels: tuple[ApprovalLevel, ...] = Field(
        (ApprovalLevel(role="approver", hours=24), ApprovalLevel(role="admin", hours=48)),
        min_length=1,
        max_length=5,
        description="Each level's time; past the last one the request expires",
    )
    warn_hours: float = Field(4.0, ge=0, allow_inf_nan=False, description="Say a deadline is near this early")

    def needs(self, monthly_usd: float, risk: Risk) -> ApprovalNeeds:
        """The most any applying rule asks (one approver when none applies)."""
        applying = [r for r in self.rules if r.applies(monthly_usd, risk)]
        if not applying:
            return ApprovalNeeds()
        return ApprovalNeeds(
            approvers=max(r.approvers for r in applying),
            admins=max(r.admins for r in applying),
            because=[r.describe() for r in applying],
        )

    def deadlines(self, requested_at: datetime) -> list[Deadline]:
        """When each level's time runs out (cumulative), from when the request was made."""
        out, at = [], requested_at
        for number, level in enumerate(self.levels, start=1):
            at += timedelta(hours=level.hours)
            out.append(Deadline(level=number, role=level.role, at=at))
        return out


class ApprovalNeeds(BaseModel):
    """How many distinct people must approve, and how many of them must be admins."""

    approvers: int = 1
    admins: int = 0
    because: list[str] = Field(default_factory=list, description="The policy's rules that ask for this")

    def missing(self, given: Sequence[Signer]) -> str | None:
        """What is still missing, in words; None once the approvals given are enough."""
        more_admins = max(self.admins - sum(s.role == "admin" for s in given), 0)
        more = max(self.approvers - len(given), more_admins)
        if more == 0:
            return None
        if more_admins == 0:
            whose = ""
        elif more == 1:
            whose = " from an admin"
        else:
            whose = ", all from admins" if more_admins == more else f", {more_admins} of them from admins"
        return f"{more} more approval{'s' if more > 1 else ''}{whose}"

    def refusal(self, caller: Signer, given: Sequence[Signer]) -> str | None:
        """Why the caller's approval cannot count towards these needs, or None when it can."""
        if any(s.by == caller.by for s in given):
            return f"{caller.by} has approved already: this plan needs {self.approvers} different people"
        admins = sum(s.role == "admin" for s in given)
        slots = self.approvers - len(given)
        if caller.role != "admin" and self.admins - admins >= max(slots, 1):
            return (
                f"the remaining approval{'s' if slots > 1 else ''} must come from an admin: this plan needs "
                f"{self.approvers} approvals, {self.admins} of them from admins"
            )
        return None


class Deadline(BaseModel):
    level: int
    role: str = Field(description="Who the request is addressed to until then")
    at: datetime


def level_at(deadlines: list[Deadline], now: datetime) -> Deadline | None:
    """The level a request is at, `now` (None: past the last deadline, expired)."""
    return next((d for d in deadlines if now < d.at), None)
