"""Chat's answer to "are we on budget?": every budget's standing, read from the bill now (the same figures
as `optiinfra budget status` and GET /api/v1/budgets)."""

from __future__ import annotations

import asyncio
import re

from agents.answers.base import Answer, Facts
from graphs.budget_store import BudgetStore
from graphs.database import Database
from tools.analysis.budgets import status
from tools.provider import CloudProvider

_AT_RISK = re.compile(r"\b(?:at risk|risk\w*|over|exceed\w*|overspend\w*|blow\w*|breach\w*)\b", re.IGNORECASE)
# Worth answering with the budgets: a question about them (orders to set one are refused earlier).
BUDGET_WORDS = re.compile(r"\b(?:budgets?|on track|overspend\w*)\b", re.IGNORECASE)


async def budget_answer(text: str, db: Database, cloud: CloudProvider) -> Answer:
    stored = await BudgetStore(db).budgets()
    if not stored:
        return Answer(
            agent="cost",
            text="No budgets are set. An operator creates one with `optiinfra budget create NAME --amount "
            "USD [--team T]` or POST /api/v1/budgets; I then say how each stands.",
            facts={"budgets": 0},
            key="budgets",
            scope="Budgets",
        )
    statuses = [await asyncio.to_thread(status, cloud, s.budget) for s in stored]
    risky = [s for s in statuses if s.at_risk]
    shown = risky if _AT_RISK.search(text) else statuses
    facts: Facts = {"budgets": len(statuses), "at_risk": len(risky)}
    lines = [f"Budgets: {len(risky)} of {len(statuses)} at risk (over their amount, or forecast to be)."]
    for s in shown:
        lines.append("  " + s.summary())
        facts |= {f"{s.name}_spent_usd": s.spent_usd, f"{s.name}_amount_usd": s.amount,
                  f"{s.name}_spent_pct": s.spent_pct}  # fmt: skip
        if s.forecast_usd is not None:
            facts |= {
                f"{s.name}_forecast_usd": s.forecast_usd,
                f"{s.name}_forecast_pct": s.forecast_pct or 0.0,
            }
    data = {"budgets": [s.model_dump(mode="json") for s in statuses]}
    return Answer(agent="cost", text="\n".join(lines), facts=facts, data=data, key="at_risk", scope="Budgets")
