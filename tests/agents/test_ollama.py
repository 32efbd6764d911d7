"""Routing and a chat turn through `ChatOllama` against a real Ollama server (a tiny CPU model that answers
poorly: what the fallbacks are for). `.ci/run` starts one; locally, set OLLAMA_HOST (see the README)."""

from __future__ import annotations

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_ollama import ChatOllama

from agents.llm import LlmSpec, ask, chat_model
from agents.narrative import grounded, sources_of, states
from agents.routing import EmbeddedRouter, ModelRouter
from agents.routing.model import INSTRUCTIONS, SCHEMA, parse_answer
from graphs.rollout.authority import Caller
from graphs.supervisor.chat import open_chat
from mock_cloud import CloudSimulator
from tests.conftest import cloud_of, ollama_model

pytestmark = pytest.mark.ollama
# The tiny model names `application` for almost anything: right for the first request, ruled out by the
# examples for the others, so both paths run.
REQUESTS = ["application health overview", "list my instances", "status of the rollout", "hello"]


@pytest.fixture
def model(ollama_host: str) -> ChatOllama:
    found = chat_model(LlmSpec("ollama", ollama_model()), ollama_host, timeout=60, max_tokens=128)
    assert isinstance(found, ChatOllama)
    return found


async def test_the_server_answers_in_the_route_schema_when_asked(model: ChatOllama) -> None:
    content = await ask(
        model, [SystemMessage(INSTRUCTIONS), HumanMessage("list my instances")], 60, format=SCHEMA
    )
    # Held to the schema's grammar, this answer is valid JSON of the schema (if not the right route; and
    # other requests can make this model repeat an array item until it is cut off: those fall back).
    answer = parse_answer(content)
    assert answer.route in SCHEMA["properties"]["route"]["enum"]


async def test_the_model_routes_and_every_route_is_valid(
    model: ChatOllama, embedded_router: EmbeddedRouter
) -> None:
    router = ModelRouter(model, embedded_router, timeout=60)
    routes = [await router.aroute(text) for text in REQUESTS]
    assert router.calls == len(REQUESTS)
    # Each answer was parsed and checked: kept as the model's, or replaced by the embedded router's.
    assert {r.source for r in routes} <= {"ollama", "embedded"}
    assert (routes[0].route, routes[0].source) == ("application", "ollama")
    for text, r in zip(REQUESTS, routes, strict=True):
        assert all(i in text.lower() for i in r.params.instance_ids)  # nothing invented
        if r.source == "embedded":
            assert r == embedded_router.route(text)


async def test_a_cut_off_answer_falls_back(ollama_host: str, embedded_router: EmbeddedRouter) -> None:
    truncated = ChatOllama(model=ollama_model(), base_url=ollama_host, temperature=0, num_predict=2)
    found = await ModelRouter(truncated, embedded_router, timeout=60).aroute("what did we spend last month?")
    assert found == embedded_router.route("what did we spend last month?")


async def test_a_model_the_server_does_not_have_falls_back(
    ollama_host: str, embedded_router: EmbeddedRouter
) -> None:
    missing = chat_model(LlmSpec("ollama", "no-such-model-here"), ollama_host, timeout=60)
    found = await ModelRouter(missing, embedded_router, timeout=60).aroute("list my instances")
    assert (found.route, found.source) == ("resource", "embedded")


async def test_the_timeout_is_honoured(model: ChatOllama, embedded_router: EmbeddedRouter) -> None:
    found = await ModelRouter(model, embedded_router, timeout=0.001).aroute("forecast next month's spend")
    assert (found.route, found.source) == ("cost", "embedded")


async def test_a_chat_turn_with_the_model_is_grounded(
    model: ChatOllama, embedded_router: EmbeddedRouter
) -> None:
    async with open_chat("memory", cloud_of(CloudSimulator(7, 200)), model, router=embedded_router) as chat:
        turn = await chat.turn(
            "o1", "what did we spend over the last 30 days by provider?", Caller("me", "viewer")
        )
    assert 1 <= turn.model_calls <= 2
    assert turn.reply.strip()
    if turn.narrated_by_model:  # kept only with the figure and the scope, and nothing made up
        assert grounded(
            turn.reply, sources_of(turn.facts, "what did we spend over the last 30 days by provider?")
        )
        assert "last 30 days" in turn.reply.lower() and states(turn.reply, float(turn.facts["total_usd"]))
    else:
        assert "USD" in turn.reply  # the template
