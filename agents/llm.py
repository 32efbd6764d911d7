"""The LLM factory: a model spec such as `ollama:llama3.2` → a LangChain chat model, or none.

The caller (the CLI, the service) reads the environment (`OPTIINFRA_LLM`, `OLLAMA_HOST`); this module only
turns what it is given into a model. Every answer the model gives is checked by its user, so a model here is
an improvement when it works and nothing worse than none when it does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: the command line parses a spec without loading LangChain
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"
DEFAULT_TIMEOUT_SECONDS = 20.0
DEFAULT_MAX_TOKENS = 256


class LlmSpecError(ValueError):
    """A model spec that names no known provider or no model."""


@dataclass(frozen=True)
class LlmSpec:
    provider: str
    model: str

    @classmethod
    def parse(cls, spec: str | None) -> LlmSpec | None:
        """`ollama:MODEL`; empty, `none` or `embedded` mean no model (the embedded router alone)."""
        if spec is None or spec.strip().lower() in ("", "none", "embedded"):
            return None
        provider, _, model = spec.strip().partition(":")
        if provider != "ollama" or not model:
            raise LlmSpecError(f"'{spec}': expected ollama:MODEL (e.g. ollama:llama3.2) or none")
        return cls(provider, model)

    def __str__(self) -> str:
        return f"{self.provider}:{self.model}"


def chat_model(
    spec: LlmSpec,
    host: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    max_tokens: int = DEFAULT_MAX_TOKENS,
) -> BaseChatModel:
    """A chat model for `spec`; `timeout` bounds each HTTP call to the model server.

    `max_tokens` bounds each answer: a small model held to a JSON grammar can repeat an array item until
    it is stopped, and a route or a five-sentence narrative never needs more.
    """
    from langchain_ollama import ChatOllama  # imported here: chat without a model never pays for it

    return ChatOllama(
        model=spec.model,
        base_url=host or DEFAULT_OLLAMA_HOST,
        temperature=0,
        num_predict=max_tokens,
        client_kwargs={"timeout": timeout},
    )


class ModelUnavailableError(Exception):
    """The model did not answer in time, or its server could not be reached or refused the request."""


async def ask(model: BaseChatModel, messages: list[BaseMessage], timeout: float, **kwargs: Any) -> str:
    """The model's reply text (possibly empty), within `timeout` seconds.

    What a model server can do wrong (hang, be down, refuse) becomes one `ModelUnavailableError`, so a caller
    has one thing to fall back from; anything else is a bug of ours and propagates.
    """
    import asyncio

    import httpx

    try:
        reply = await asyncio.wait_for(model.ainvoke(messages, **kwargs), timeout)
    except TimeoutError as exc:
        raise ModelUnavailableError(f"no answer within {timeout:g} s") from exc
    except (httpx.HTTPError, ConnectionError) as exc:
        raise ModelUnavailableError(f"unreachable: {exc}") from exc
    except Exception as exc:
        if type(exc).__module__.split(".")[0] not in ("ollama", "langchain_ollama"):
            raise
        raise ModelUnavailableError(f"refused: {exc}") from exc  # the ollama client's ResponseError
    return reply.content if isinstance(reply.content, str) else ""
