"""The events notifications are about, by name: apart from the notice's model so that the command line can
name them in its help without loading pydantic and the cloud's models."""

from __future__ import annotations

from typing import Literal, get_args

EventKind = Literal[
    "approval_requested",
    "approval_deadline_near",
    "approval_escalated",
    "rollout_completed",
    "rollout_rolled_back",
    "rollout_failed",
    "rollout_expired",
    "budget_threshold",
    "anomaly_opened",
]
EVENT_KINDS: tuple[EventKind, ...] = get_args(EventKind)
