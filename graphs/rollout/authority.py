"""Who may do what with rollouts: the one place the rules live.

Every way in (the HTTP routes, chat in the CLI and in the service, the workflow commands) passes its caller
here and repeats the refusal word for word, so a rule cannot be gone around by choosing another door.
Roles are cumulative: viewer < operator < approver < admin. Viewers read and ask; operators also start
rollouts and manage FinOps (create and delete budgets, run the anomaly check, acknowledge and resolve
anomalies, add and remove notification channels); approvers
also approve or reject rollouts; admins also administer (API keys).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from graphs.rollout.approvals import ApprovalPolicy

Role = Literal["viewer", "operator", "approver", "admin"]
Action = Literal["read", "start", "manage", "decide", "administer"]
ROLES: tuple[Role, ...] = get_args(Role)  # lowest first
_LEAST_ROLE: dict[Action, Role] = {
    "read": "viewer", "start": "operator", "manage": "operator", "decide": "approver", "administer": "admin",
}  # fmt: skip
_VERBS: dict[Action, str] = {
    "read": "read",
    "start": "start rollouts",
    "manage": "manage budgets, anomalies and notifications",
    "decide": "approve or reject rollouts",
    "administer": "administer",
}


@dataclass(frozen=True)
class Caller:
    """Who asks: the name decisions are recorded with, and the role that says what they may do."""

    name: str
    role: Role


class NotPermittedError(Exception):
    """The caller's role, or a rule (the distinct approver), forbids this action; the message says which."""


@dataclass(frozen=True)
class DecisionRules:
    """The deployment's rules for decisions, beyond roles."""

    distinct_approver: bool = False  # a workflow's requester may not approve it
    approval: ApprovalPolicy | None = None  # how many people, which roles, by when (None: the default)


def allowed(role: Role, action: Action) -> bool:
    return ROLES.index(role) >= ROLES.index(_LEAST_ROLE[action])


def permit(caller: Caller, action: Action) -> None:
    """Raise NotPermittedError unless the caller's role allows `action`."""
    if not allowed(caller.role, action):
        raise NotPermittedError(
            f"the {caller.role} role may not {_VERBS[action]} (it takes the {_LEAST_ROLE[action]} role)"
        )


def permit_decision(caller: Caller, decision: str, requested_by: str, rules: DecisionRules) -> None:
    """Raise NotPermittedError unless the caller may answer this workflow's approval with `decision`."""
    permit(caller, "decide")
    if rules.distinct_approver and decision == "approve" and caller.name == requested_by:
        raise NotPermittedError("the workflow's requester may not approve it: another person must")
