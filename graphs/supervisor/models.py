"""The conversation's vocabulary: a turn's reply, what a thread remembers between turns, the state."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from agents.answers.base import Fact, Focus
from agents.review import RolloutKind
from agents.routing.models import Period, Route, RouteName, RouteParams
from graphs.rollout.models import ApprovalRequest

HISTORY_TURNS = 20  # a thread's checkpoints carry this many past exchanges, not the whole conversation


class PendingApproval(BaseModel):
    """What waits for the person in this conversation."""

    workflow_id: str
    kind: RolloutKind
    instance_ids: list[str]
    monthly_savings: float
    risk: str
    why: list[str]

    @classmethod
    def of(cls, request: ApprovalRequest) -> PendingApproval:
        return cls.model_validate(request.model_dump(include=set(cls.model_fields)))


class Reply(BaseModel):
    """One turn's answer: the text, the numbers it states, the findings behind it."""

    agent: str = Field(description="Who answered: a specialist, rollout, approval, status or general")
    text: str
    facts: dict[str, Fact] = Field(default_factory=dict)
    data: dict[str, Any] = Field(default_factory=dict)
    key: str | None = Field(None, description="The fact that answers the question")
    scope: str = Field("", description="What the answer covers")
    narrated_by_model: bool = False


class Exchange(BaseModel):
    user: str
    route: RouteName
    reply: str


def recent(old: list[Exchange], new: list[Exchange]) -> list[Exchange]:
    return (old + new)[-HISTORY_TURNS:]


class ChatInput(TypedDict):
    message: str


class ChatOutput(TypedDict, total=False):
    route: Route
    reply: Reply
    pending: PendingApproval | None
    model_calls: int


class ChatState(ChatInput, total=False):
    route: Route
    hops: int  # steps taken this turn; bounded, so a turn cannot loop
    model_calls: int  # requests this turn sent to a model
    reply: Reply | None
    pending: PendingApproval | None
    focus: Focus | None  # what a question about a change is about, when the supervisor reroutes it
    note: str | None  # said before the answer (or instead of it: a request beyond the tools)
    kind: str | None  # the rollout kind an order starts (graphs.rollout.kinds)
    history: Annotated[list[Exchange], recent]
    # What "it", "them" and "that migration" mean in the next turn.
    instance_ids: list[str]
    application: str | None
    workflow_id: str | None


# The classes a conversation's checkpoints may hold (see graphs.checkpointing).
STATE_TYPES: tuple[type, ...] = (Route, RouteParams, Period, Reply, Exchange, PendingApproval)
