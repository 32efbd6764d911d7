"""Schemathesis generates requests from the service's own OpenAPI schema, valid and not: none may get a 5xx.

Against a real `optiinfra serve --no-auth` on loopback (the role checks are tested separately), on
PostgreSQL (stricter than SQLite about what text it takes: a NUL character is an error there), with a
fleet small enough that every operation answers quickly.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from tests.conftest import own_schema, serving

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory, postgres_url: str) -> Iterator[str]:
    where = Path(tmp_path_factory.mktemp("fuzz"))
    with own_schema(postgres_url) as db:
        command = ["serve", "--no-auth", "--db", db, "--size", "60"]
        with serving(command, log=where / "service.log") as (url, _):
            yield url


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
