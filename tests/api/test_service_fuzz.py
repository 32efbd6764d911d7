"""Schemathesis generates requests from the service's own OpenAPI schema, valid and not: none may get a 5xx.

Against a real `optiinfra serve --no-auth` on loopback (the role checks are tested separately), with a
fleet small enough that every operation answers quickly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from tests.conftest import free_port


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'service.db'}"
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--no-auth", "--db", db, "--size", "60",
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        while process.poll() is None:  # each refused connection returns at once: the loop paces itself
            try:
                if httpx.get(f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                continue
        assert process.poll() is None, process.stderr.read() if process.stderr else "serve exited"
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_no_request_makes_the_service_fail(service_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{service_url}/openapi.json")
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results) >= 12  # every operation of the schema parsed

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def no_server_error(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        no_server_error()
