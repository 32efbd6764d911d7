"""Chat's "set a budget of 20,000 a month for the ml team, alert me at 80 %": a budget made from the words, by
the rules of `optiinfra budget create` and POST /api/v1/budgets (an operator's role), then its standing
read from the bill, with the thresholds it has crossed already told to the channels that want them.

What the words do not say takes the defaults (a month; alerts at 50, 80 and 100 % of actual spend and 100 %
of the forecast); what cannot be guessed — the amount — is asked for. Changing or deleting a budget stays
the command line's and the API's (chat refuses it with the command).
"""

from __future__ import annotations

import asyncio
import re

from pydantic import ValidationError

from agents.answers.base import Answer
from agents.answers.scope import instance_scope
from agents.routing.models import RouteParams
from graphs.budget_store import BudgetError, BudgetStore
from graphs.finops import FinOps
from graphs.rollout.authority import Caller, NotPermittedError, permit
from graphs.rollout.workflow import Rollouts
from tools.analysis.budgets import DEFAULT_THRESHOLDS, Budget, Period, Threshold
from tools.models import InstanceFilter
from tools.provider import CloudProvider

# An order to make one (questions and changes go elsewhere: see agents.capabilities' "budgets" limit).
_CREATE = re.compile(
    r"^\W*(?:please\s+|(?:can|could|would|will) you\s+|i want (?:you )?to\s+|let'?s\s+)?"
    r"(?:set(?:\s+up)?|create|add|make|define|establish|put in place)\b"
    r"(?!.*\b(?:delete|remove)\b).*\bbudgets?\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent\b)", re.IGNORECASE)
_FORECAST_PERCENT = re.compile(r"forecast\w*\D{0,40}?(\d+(?:\.\d+)?)\s*(?:%|percent\b)", re.IGNORECASE)
_AMOUNT = re.compile(
    r"(?<![\w.-])\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(k|m|thousand|million)?\b(?!\s*(?:%|percent))",
    re.IGNORECASE,
)
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6}
_PERIODS: tuple[tuple[re.Pattern[str], Period], ...] = (
    (re.compile(r"\b(?:quarter\w*)\b", re.IGNORECASE), "quarter"),
    (re.compile(r"\b(?:year\w*|annual\w*)\b", re.IGNORECASE), "year"),
)
_FOR = re.compile(r"\bfor\s+(?:the\s+|our\s+)?([A-Za-z0-9][A-Za-z0-9._-]*)", re.IGNORECASE)
_NAMED = re.compile(r"\b(?:called|named)\s+['\"]?([A-Za-z0-9][A-Za-z0-9._-]{0,63})", re.IGNORECASE)


def orders_budget(text: str) -> bool:
    """Whether the text orders a budget made ("set a budget of …"), rather than asks about budgets."""
    return _CREATE.search(text) is not None


async def budget_order(text: str, params: RouteParams, rollouts: Rollouts, caller: Caller) -> Answer:
    scope = InstanceFilter(**instance_scope(params))
    if scope == InstanceFilter() and rollouts.cloud is not None:  # "for ml": a team, an app, …, by its name
        named_part = await asyncio.to_thread(_named_part, text, rollouts.cloud)
        scope = named_part or scope
    where = _scope_words(scope)
    try:
        permit(caller, "manage")
    except NotPermittedError as exc:
        return _said(f"Budget {where}: {exc}.")
    amount = _amount(text)
    if amount is None:
        return _said(
            f'Budget {where}: how much? Say the amount, e.g. "set a budget of 20,000 a month {_for(scope)}" '
            "(alerts at 50, 80 and 100 % of actual spend and 100 % of the forecast unless you name others).",
        )
    forecast = [float(p) for p in _FORECAST_PERCENT.findall(text)]
    actual = [float(p) for p in _PERCENT.findall(text) if float(p) not in forecast]
    given = [Threshold(percent=p) for p in actual] + [
        Threshold(percent=p, basis="forecast") for p in forecast
    ]
    named = _NAMED.search(text)
    name = named.group(1) if named else _default_name(scope)
    period = next((p for pattern, p in _PERIODS if pattern.search(text)), "month")
    try:
        budget = Budget(name=name, amount=amount, period=period, scope=scope,
                        thresholds=given or list(DEFAULT_THRESHOLDS))  # fmt: skip
    except ValidationError as exc:
        return _said(f"Budget {where}: {exc.errors(include_url=False)[0]['msg']}.")
    store = BudgetStore(rollouts.db)
    try:
        await store.create(budget, caller.name)
    except BudgetError as exc:
        return _said(f'Budget {name}: {exc}, or name this one ("… called ml-2").')
    checked = (await FinOps(rollouts).check_budgets([name]))[0]
    channels = [s for s in await rollouts.notifier.store.channels() if not s.channel.events
                or "budget_threshold" in s.channel.events]  # fmt: skip
    limits = ", ".join(f"{t.percent:g} % {t.basis}" for t in budget.thresholds)
    told = (
        f"Its alerts go to {len(channels)} notification channel(s)."
        if channels
        else "No notification channel takes budget alerts yet: an operator adds one with `optiinfra notify "
        "add NAME --slack URL --event budget_threshold`."
    )
    lines = [
        f"Budget {name} set: {amount:,.2f} USD a {period} for {where}; alerts at {limits}.",
        "Now: " + checked.status.summary(checked.new) + ".",
        told,
    ]
    s = checked.status
    facts = {"amount_usd": amount, "spent_usd": s.spent_usd, "spent_pct": s.spent_pct}
    if s.forecast_usd is not None:
        facts |= {"forecast_usd": s.forecast_usd, "forecast_pct": s.forecast_pct or 0.0}
    return Answer(agent="cost", text="\n".join(lines), facts=facts, key="amount_usd", scope=f"Budget {name}",
                  data={"budget": budget.model_dump(mode="json"), "status": s.model_dump(mode="json"),
                        "new": checked.new})  # fmt: skip


def _named_part(text: str, cloud: CloudProvider) -> InstanceFilter | None:
    """The part of the fleet a bare "for NAME" means, when NAME is a team, environment or application the
    cloud has (in that order); None when it names none of them."""
    names = [m.lower() for m in _FOR.findall(text)]
    if not names:
        return None
    instances = cloud.list_instances()
    for key in ("team", "environment"):
        values = {i.tags.get(key, "").lower(): i.tags.get(key, "") for i in instances}
        if found := next((values[n] for n in names if n in values), None):
            return InstanceFilter(tags={key: found})
    applications = {i.application.lower(): i.application for i in instances if i.application}
    found = next((applications[n] for n in names if n in applications), None)
    return InstanceFilter(application=found) if found else None


def _amount(text: str) -> float | None:
    """The budget's amount: the largest plain figure in the words (percentages and ids are not amounts)."""
    found = []
    for whole, fraction, scale in _AMOUNT.findall(text):
        value = float(whole.replace(",", "") + (f".{fraction}" if fraction else ""))
        found.append(value * _SCALE.get(scale.lower(), 1.0) if scale else value)
    return max(found) if found else None


def _default_name(scope: InstanceFilter) -> str:
    for value in (scope.application, scope.tags.get("team"), scope.tags.get("environment"), scope.region,
                  scope.provider):  # fmt: skip
        if value:
            return re.sub(r"[^A-Za-z0-9._-]", "-", value)[:64]
    return "all"


def _scope_words(scope: InstanceFilter) -> str:
    named = [f"{k} {v}" for k, v in scope.model_dump(exclude_defaults=True, exclude={"tags"}).items()]
    named += [f"{k}={v}" for k, v in scope.tags.items()]
    return ", ".join(named) or "the whole bill"


def _for(scope: InstanceFilter) -> str:
    team = scope.tags.get("team")
    return f"for the {team} team" if team else "for the whole bill" if scope == InstanceFilter() else "for it"


def _said(text: str) -> Answer:
    return Answer(agent="cost", text=text, facts={}, key=None, scope=text.split(":")[0])
