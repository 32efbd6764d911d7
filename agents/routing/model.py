"""Routing with a chat model (Ollama): the same typed route, asked for through JSON-schema output.

The model's answer is trusted only as far as it can be checked. It must parse as the schema; parameters
count only when they are written in the request (a model that invents an instance id must not start a
migration of it), and the rules' reading of the request wins where both have one. An answer that is
invalid, empty or later than `timeout` falls back to the embedded router, and the route's `source` says
which one decided. So does an answer the examples all but rule out (under `min_support` of the scores)
while the embedded router is sure of another route: "hello" is not a rightsizing request, whatever a small
model says; where the embedded router is unsure, the model decides. A model's own confidence is not
calibrated, so the route's confidence is the embedded router's measure of the route the model chose.
"""

from __future__ import annotations

import asyncio
import logging
import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError

from agents.llm import ModelUnavailableError, ask
from agents.routing.embedded import EmbeddedRouter
from agents.routing.models import Route, RouteName, RouteParams
from tools.models import CloudName

log = logging.getLogger(__name__)


class ModelRoute(BaseModel):
    """The JSON a model is asked to return."""

    route: RouteName
    instance_ids: list[str] = Field(default_factory=list)
    provider: CloudName | None = None
    region: str | None = None
    instance_type: str | None = None
    decision: str | None = Field(None, description="approve or reject, for the approval route")
    team: str | None = None
    application: str | None = None


SCHEMA = ModelRoute.model_json_schema()
INSTRUCTIONS = """You route requests to a cloud cost optimisation assistant. Answer with JSON only.
Routes:
- cost: spend, bills, cost breakdowns, forecasts, budgets, prices, savings estimates
- performance: CPU/memory/GPU/network utilisation, anomalies, over- or under-provisioned instances
- resource: inventory, instance details and states, regions, tags, idle machines, instance types, spot risk
- application: service health, latency, error rate, SLOs, dependencies, which apps run where, statefulness
- spot_migration: a request to move instances to spot
- rightsizing: a request to resize or downsize instances
- approval: approving or rejecting a pending change
- status: progress or outcome of a rollout
- general: greetings, help, anything else
Copy instance ids, cloud (aws, gcp, azure), region, instance type, team and application exactly as written
in the request; leave out what it does not say."""

_FENCE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")


class ModelAnswerError(ValueError):
    """The model's answer is not a route (empty, not JSON, or not the schema)."""


def parse_answer(content: str) -> ModelRoute:
    """The route in a model's message content; small models sometimes wrap their JSON in a code fence."""
    if not content.strip():
        raise ModelAnswerError("the model's answer was empty")
    try:
        return ModelRoute.model_validate_json(_FENCE.sub("", content))
    except ValidationError as exc:
        raise ModelAnswerError(f"not a route: {exc.errors(include_url=False)[0]['msg']}") from exc


def _written(value: str | None, text: str) -> bool:
    return value is not None and value.strip() != "" and value.lower() in text.lower()


def grounded_params(answer: ModelRoute, rules: RouteParams, text: str) -> RouteParams:
    """The rules' parameters, completed by the model's only where the model's value is in the request."""
    found = rules.model_dump()
    ids = [i.lower() for i in answer.instance_ids if _written(i, text)]
    found["instance_ids"] = list(dict.fromkeys([*rules.instance_ids, *ids]))
    for key in ("region", "instance_type", "team", "application"):
        value = getattr(answer, key)
        if found[key] is None and _written(value, text):
            found[key] = value
    if found["provider"] is None and answer.provider and _written(answer.provider, text):
        found["provider"] = answer.provider
    return RouteParams.model_validate(found)


class ModelRouter:
    """Routes with `model`, falling back to `embedded`; `calls` counts the requests sent to the model."""

    uses_model = True

    def __init__(
        self,
        model: BaseChatModel,
        embedded: EmbeddedRouter,
        timeout: float = 20.0,
        min_support: float = 0.01,
        sure: float = 0.6,
    ) -> None:
        self.model = model
        self.embedded = embedded
        self.timeout = timeout
        self.min_support = min_support
        self.sure = sure
        self.calls = 0

    async def aroute(self, text: str) -> Route:
        fallback, shares = await asyncio.to_thread(self.embedded.judge, text)
        if not text.strip():
            return fallback
        self.calls += 1
        messages = [SystemMessage(INSTRUCTIONS), HumanMessage(text)]
        try:
            answer = parse_answer(await ask(self.model, messages, self.timeout, format=SCHEMA))
        except (ModelUnavailableError, ModelAnswerError) as exc:
            log.warning("model did not route (%s); the embedded router decided", exc)
            return fallback
        if shares[answer.route] < self.min_support and fallback.confidence >= self.sure:
            log.warning(
                "model routed to %s, which the examples rule out; the embedded router decided", answer.route
            )
            return fallback
        return Route(
            route=answer.route,
            params=grounded_params(answer, fallback.params, text),
            confidence=round(shares[answer.route], 3),
            source="ollama",
        )
