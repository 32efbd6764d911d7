"""The rule CI relies on: a missing service skips locally and fails under OPTIINFRA_REQUIRE_SERVICES=1."""

import pytest

from tests.conftest import REQUIRE_SERVICES_VARIABLE, service_missing


def test_missing_service_skips_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REQUIRE_SERVICES_VARIABLE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL unavailable: down"):
        service_missing("PostgreSQL", "down")


def test_missing_service_fails_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REQUIRE_SERVICES_VARIABLE, "1")
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL is required"):
        service_missing("PostgreSQL", "down")
