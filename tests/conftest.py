"""Shared fixtures. Services (PostgreSQL, Ollama) are used for real; a missing one skips its tests, except
under OPTIINFRA_REQUIRE_SERVICES=1 (set by .ci/run), where a missing service fails them instead."""

from __future__ import annotations

import os
import socket
from typing import NoReturn
from urllib.parse import urlparse

import pytest

REQUIRE_SERVICES_VARIABLE = "OPTIINFRA_REQUIRE_SERVICES"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def service_missing(service: str, why: str) -> NoReturn:
    """Skip the test, or fail it when the run requires every service."""
    if os.environ.get(REQUIRE_SERVICES_VARIABLE) == "1":
        pytest.fail(f"{service} is required ({REQUIRE_SERVICES_VARIABLE}=1) but {why}", pytrace=False)
    pytest.skip(f"{service} unavailable: {why} (set {REQUIRE_SERVICES_VARIABLE}=1 to make this a failure)")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The test PostgreSQL server's URL (OPTIINFRA_TEST_POSTGRES_URL), checked to accept connections."""
    url = os.environ.get("OPTIINFRA_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    parsed = urlparse(url)
    if not reachable(parsed.hostname or "127.0.0.1", parsed.port or 5432):
        service_missing(
            "PostgreSQL", f"nothing accepts connections at {parsed.hostname}:{parsed.port or 5432}"
        )
    return url
