"""What a specialist's answer is, and how it calls its tools.

An answer carries its findings (`data`, the tools' own results), the numbers it states (`facts`) and a
narrative written from a template over those numbers. A model asked to write the narrative instead is given
the same facts, and its text is kept only if every number in it is one of them (see agents.narrative).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.messages import ToolMessage
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field

from agents.routing.models import RouteParams

Fact = float | int | str
# A question about a change the rollouts carry out is answered with the opportunities for it.
Focus = Literal["spot", "downsize", "upsize", "budgets", "set_budget", "off_hours"]
Facts = dict[str, Fact]


class Question(BaseModel):
    """A request as a specialist receives it: the text, what it names, and what the conversation adds."""

    text: str
    params: RouteParams = Field(default_factory=RouteParams)
    focus: Focus | None = Field(
        None, description="What the supervisor saw the question is about, when its words alone may not say"
    )


class Answer(BaseModel):
    agent: str
    text: str = Field(description="The narrative, written from a template over `facts`")
    facts: dict[str, Fact] = Field(default_factory=dict, description="Every number the narrative states")
    data: dict[str, Any] = Field(default_factory=dict, description="The tools' results, as JSON")
    tools: list[str] = Field(default_factory=list, description="The tools called, in order")
    instance_ids: list[str] = Field(default_factory=list, description="The instances the answer is about")
    application: str | None = None
    key: str | None = Field(None, description="The fact that answers the question: a narrative must state it")
    scope: str = Field("", description="What the answer covers, as its first line says it")


class ToolFailedError(Exception):
    """A tool answered with an error (unknown instance, bad argument, cloud outage)."""

    def __init__(self, tool: str, code: str, message: str) -> None:
        super().__init__(message)
        self.tool, self.code, self.message = tool, code, message


class Tools:
    """A specialist's tools by name; calls them as a model would and returns their typed results."""

    def __init__(self, tools: Sequence[BaseTool]) -> None:
        self._tools = {t.name: t for t in tools}
        self.called: list[str] = []

    async def call(self, name: str, **args: Any) -> Any:
        message = await self._tools[name].ainvoke(
            {"type": "tool_call", "id": f"call-{secrets.token_hex(4)}", "name": name, "args": args}
        )
        assert isinstance(message, ToolMessage)
        self.called.append(name)
        if message.status == "error":
            code, text = _error(str(message.content))
            raise ToolFailedError(name, code, text)
        return message.artifact


def _error(content: str) -> tuple[str, str]:
    try:
        body = json.loads(content)
        return str(body.get("error", "error")), str(body.get("message", content))
    except (ValueError, AttributeError):
        return "error", content


def has(text: str, *words: str) -> bool:
    """Whether `text` contains any of `words` as words (a word may end in a regex, e.g. `sav\\w*`)."""
    return re.search(r"\b(?:" + "|".join(words) + r")\b", text, re.IGNORECASE) is not None


def and_more(total: int, shown: int) -> list[str]:
    """The line that says a list goes on past what it shows."""
    return [f"  and {total - shown} more."] if total > shown else []


def usd(amount: float) -> str:
    return f"{amount:,.2f} USD"


def dump(result: BaseModel | Sequence[BaseModel]) -> Any:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return [item.model_dump(mode="json") for item in result]
