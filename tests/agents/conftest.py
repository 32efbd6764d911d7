from __future__ import annotations

import pytest

from agents.routing import EmbeddedRouter


@pytest.fixture(scope="session")
def embedded_router() -> EmbeddedRouter:
    """One router per run: loading the model and embedding the examples takes about a second."""
    router = EmbeddedRouter()
    router.warm()
    return router
