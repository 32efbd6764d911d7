"""The request router: text → `Route(route, params, confidence, source)`.

`EmbeddedRouter` needs no server (a sentence-embedding model shipped as a package, example requests per
route, rules for parameters); `ModelRouter` asks a chat model and falls back to it. Both route with
`await router.aroute(text)`.
"""

from __future__ import annotations

from typing import Protocol

from langchain_core.language_models import BaseChatModel

from agents.routing.embedded import EmbeddedRouter, RouterSettings
from agents.routing.model import ModelRouter
from agents.routing.models import ROUTES, SPECIALISTS, Route, RouteName, RouteParams


class Router(Protocol):
    uses_model: bool  # whether routing a request sends it to a model

    async def aroute(self, text: str) -> Route: ...


def build_router(
    model: BaseChatModel | None = None, embedded: EmbeddedRouter | None = None, timeout: float = 20.0
) -> EmbeddedRouter | ModelRouter:
    """The embedded router, or a model's router falling back to it when a model is given."""
    embedded = embedded or EmbeddedRouter()
    return embedded if model is None else ModelRouter(model, embedded, timeout=timeout)


__all__ = [
    "ROUTES",
    "SPECIALISTS",
    "EmbeddedRouter",
    "ModelRouter",
    "Route",
    "RouteName",
    "RouteParams",
    "Router",
    "RouterSettings",
    "build_router",
]
