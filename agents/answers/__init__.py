"""The four specialists' answering duty: a question in, findings and a templated narrative out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from agents.answers import application, cost, performance, resource
from agents.answers.base import Answer, Question, ToolFailedError, Tools
from tools.toolkit import Toolkit

Answerer = Callable[[Question, Tools], Awaitable[Answer]]
ANSWERERS: dict[str, Answerer] = {
    "cost": cost.answer,
    "performance": performance.answer,
    "resource": resource.answer,
    "application": application.answer,
}


async def answer(agent: str, question: Question, toolkit: Toolkit) -> Answer:
    """The specialist's answer; a tool's error (an unknown instance, a cloud outage) becomes a plain reply."""
    tools = Tools(toolkit.for_agent(agent))
    try:
        found = await ANSWERERS[agent](question, tools)
    except ToolFailedError as exc:
        return Answer(
            agent=agent,
            text=f"I could not answer that: {exc.message}",
            data={"error": {"tool": exc.tool, "code": exc.code, "message": exc.message}},
            tools=tools.called,
        )
    return found.model_copy(update={"tools": tools.called})


__all__ = ["ANSWERERS", "Answer", "Question", "ToolFailedError", "Tools", "answer"]
