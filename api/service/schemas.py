"""What the HTTP API takes and returns: models of its own, so the domain can change under stable clients."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from graphs.rollout.approvals import ApprovalNeeds, Deadline
from graphs.rollout.kinds import KINDS, UnknownKindError, kind_of
from graphs.rollout.store import SignOff
from tools.models import Instance


def _known_kind(name: str) -> str:
    try:
        return kind_of(name).name
    except UnknownKindError as exc:
        raise ValueError(str(exc)) from None


# A rollout kind, from the registry (graphs/rollout/kinds/): an unknown one is a 422 naming the known.
Kind = Annotated[str, AfterValidator(_known_kind), WithJsonSchema({"type": "string", "enum": sorted(KINDS)})]
Cloud = Literal["aws", "gcp", "azure"]


class Strict(BaseModel):
    """A request body: no field it does not know, and no NUL character in any text (databases refuse them,
    PostgreSQL with an error the client would otherwise see as a 500)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _holds_nul(data):
            raise ValueError("text may not contain NUL characters")
        return data


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


class ChatRequest(Strict):
    thread_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    message: str = Field(min_length=1, max_length=4000)


class PendingApprovalOut(BaseModel):
    workflow_id: str
    kind: Kind
    instance_ids: list[str]
    monthly_savings: float
    risk: str
    why: list[str]
    needs: ApprovalNeeds = Field(default_factory=ApprovalNeeds, description="How many people, which roles")
    requested_at: datetime | None = None
    deadlines: list[Deadline] = Field(
        default_factory=list, description="Each level's; past the last: expired"
    )


class ChatResponse(BaseModel):
    thread_id: str
    route: str
    agent: str = Field(description="Who answered: a specialist, rollout, approval, status or general")
    reply: str
    data: dict[str, Any]
    pending_approval: PendingApprovalOut | None
    routing: dict[str, Any] = Field(description="params, confidence and source of the route")


class ScopeIn(Strict):
    provider: Cloud | None = None
    region: str | None = Field(None, max_length=64)
    application: str | None = Field(None, max_length=128)
    tags: dict[Annotated[str, Field(max_length=128)], Annotated[str, Field(max_length=256)]] = Field(
        default_factory=dict, max_length=20
    )
    instance_ids: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=10_000)


class WorkflowRequest(Strict):
    kind: Kind
    scope: ScopeIn = Field(default_factory=ScopeIn)
    auto_approve: bool = False
    waves: list[float] | None = Field(None, min_length=1, max_length=20, description="e.g. [0.1, 0.5, 1.0]")
    max_changes: int | None = Field(None, gt=0, le=100_000)
    max_latency_increase_pct: float | None = Field(None, gt=0, le=1000)


class WorkflowAccepted(BaseModel):
    workflow_id: str
    status: str
    waiting_for: str | None = Field(None, description="What an approval still needs, when several are")


class Review(BaseModel):
    agent: str
    approved: bool
    confidence: float
    reasons: list[str]
    alternatives: list[AlternativeOut] = Field(
        default_factory=list, description="Other ways to save on this instance, counted in no total"
    )
    vetoes: dict[str, str]


class WaveOut(BaseModel):
    number: int
    instances: int
    failed: int
    started_at: datetime
    finished_at: datetime
    degraded: bool | None = Field(description="The monitor's verdict; null while it watches")


class WorkflowOut(BaseModel):
    workflow_id: str
    kind: Kind
    status: str
    requested_by: str
    created_at: datetime
    planned: int | None
    approved: int | None
    waves_done: int
    plan: dict[str, Any] | None = Field(description="instances analysed, opportunities, changes, savings")
    approvals: list[Review]
    waves: list[WaveOut]
    pending: PendingApprovalOut | None
    signoffs: list[SignOff] = Field(default_factory=list, description="Approvals given so far, when several")
    waiting_for: str | None = Field(None, description="What the pending request still needs")
    report: dict[str, Any] | None


class WorkflowSummary(BaseModel):
    workflow_id: str
    kind: str
    status: str
    requested_by: str
    created_at: datetime


class CancelRequest(Strict):
    rollback: bool = Field(True, description="Roll back what the workflow changed (false: keep it)")


class DecisionRequest(Strict):
    decision: Literal["approve", "reject"]
    instance_ids: list[Annotated[str, Field(max_length=64)]] | None = Field(
        None, max_length=10_000, description="Approve only these"
    )
    comment: str | None = Field(None, max_length=2000)


class AuditOut(BaseModel):
    kind: str
    actor: str
    instance_id: str | None
    at: datetime
    detail: dict[str, Any]


class InstanceOut(BaseModel):
    id: str
    name: str
    provider: str
    region: str
    instance_type: str
    pricing_model: str
    state: str
    application: str | None
    tags: dict[str, str]
    vcpus: int
    memory_gb: float
    hourly_price: float

    @classmethod
    def of(cls, instance: Instance) -> InstanceOut:
        # Built without validating again: `Instance` was validated when the cloud's answer was read, and a
        # page of 50 validated twice was a fifth of the request's time.
        return cls.model_construct(
            id=instance.id, name=instance.name, provider=instance.provider, region=instance.region,
            instance_type=instance.instance_type, pricing_model=instance.pricing_model, state=instance.state,
            application=instance.application, tags=instance.tags, vcpus=instance.vcpus,
            memory_gb=instance.memory_gb, hourly_price=instance.hourly_price,
        )  # fmt: skip


class InstancePage(BaseModel):
    total: int
    offset: int
    limit: int
    items: list[InstanceOut]


class CostGroupOut(BaseModel):
    key: str
    amount: float


class CostsOut(BaseModel):
    start: datetime
    end: datetime
    group_by: str | None
    total: float
    groups: list[CostGroupOut]


class RecommendationPage(BaseModel):
    total: int
    offset: int
    limit: int
    monthly_savings: float = Field(description="Of every recommendation matching, not only this page")
    under_provisioned: int = Field(0, description="Machines to size up instead: a cost, not a saving")
    under_provisioned_monthly_cost: float = Field(0.0, description="What sizing those up adds, USD/month")
    notes: list[str] = Field(default_factory=list, description="What could not be analysed, and why")
    items: list[RecommendationOut]


class AlternativeOut(BaseModel):
    kind: str
    action: str
    target: str
    monthly_savings: float
    note: str = ""


class RecommendationOut(BaseModel):
    instance_id: str = Field(
        description="The resource's id: an instance's, or a volume's, snapshot's, address's"
    )
    resource: str = Field("instance", description="instance, volume, snapshot or address")
    provider: str
    region: str
    application: str | None
    kind: str
    action: str
    current: str
    target: str
    monthly_savings: float
    risk: str
    confidence: float
    reasons: list[str]
