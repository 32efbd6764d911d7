"""A chat model that answers from a script, for the model paths of unit tests (the real server is tested
under the `ollama` marker). Each reply is text, an exception to raise, or HANG to never answer."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

HANG = "<hang>"


class ScriptedChatModel(BaseChatModel):
    replies: list[str | Exception] = Field(default_factory=list)
    calls: list[dict[str, Any]] = Field(default_factory=list, description="messages and kwargs of each call")

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _next(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> str | Exception:
        self.calls.append({"messages": messages, **kwargs})
        if not self.replies:
            raise AssertionError("the script has no reply left: the model was called more than expected")
        return self.replies.pop(0)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._next(messages, kwargs)
        if isinstance(reply, Exception):
            raise reply
        return ChatResult(generations=[ChatGeneration(message=AIMessage(reply))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        reply = self._next(messages, kwargs)
        if reply == HANG:
            await asyncio.Event().wait()  # never set: only the caller's timeout ends this call
        if isinstance(reply, Exception):
            raise reply
        return ChatResult(generations=[ChatGeneration(message=AIMessage(reply))])
