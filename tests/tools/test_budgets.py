"""Budgets: periods, the standing against the simulator's own bill, and a forecast threshold that fires
before the actual one as the virtual clock runs through the month."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from mock_cloud import CloudSimulator
from mock_cloud.server import create_app
from tests.conftest import cloud_of
from tools.analysis.budgets import Budget, Threshold, period_bounds, status
from tools.models import InstanceFilter


def test_periods_are_calendar_ones() -> None:
    now = datetime(2026, 11, 17, 6, tzinfo=UTC)
    assert period_bounds("month", now) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
    )
    assert period_bounds("quarter", now) == (
        datetime(2026, 10, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )
    assert period_bounds("year", now)[1] == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_budget_covers_a_part_of_the_bill() -> None:
    with pytest.raises(ValidationError, match="part of the bill"):
        Budget(name="x", amount=10, scope=InstanceFilter(state="running"))
    with pytest.raises(ValidationError):
        Budget(name="no spaces", amount=10)
    with pytest.raises(ValidationError):
        Budget(name="x", amount=0)


def test_spent_is_the_bills_own_figure_for_the_scope() -> None:
    sim = CloudSimulator(seed=7, size=300)
    budget = Budget(name="ml", amount=20_000, scope=InstanceFilter(tags={"team": "ml"}))
    found = status(cloud_of(sim), budget)
    rest = TestClient(create_app(sim))
    since_the_first = (sim.now() - datetime(2026, 6, 1, tzinfo=UTC).timestamp()) / 86400
    billed = rest.get("/costs", params={"days": since_the_first, "tag": "team=ml"}).json()["total"]
    assert found.spent_usd == pytest.approx(billed, abs=0.01)
    assert (found.period_start, found.period_end, found.days_left) == (
        date(2026, 6, 1),
        date(2026, 6, 30),
        13.75,
    )
    assert found.forecast_usd is not None and found.forecast_low_usd is not None
    assert found.forecast_low_usd <= found.forecast_usd <= (found.forecast_high_usd or 0.0)
    # The forecast is the spend so far plus a fortnight more at about the daily rate of the last weeks.
    daily = rest.get("/costs", params={"days": 7, "tag": "team=ml", "until": "2026-06-17T00:00:00Z"}).json()
    assert found.forecast_usd == pytest.approx(found.spent_usd + 13.75 * daily["total"] / 7, rel=0.03)


def test_the_forecast_threshold_fires_days_before_the_actual_one() -> None:
    sim = CloudSimulator(seed=7, size=200)
    cloud = cloud_of(sim)
    first = status(cloud, Budget(name="probe", amount=1.0))
    assert first.forecast_low_usd is not None and first.spent_usd < 0.6 * first.forecast_low_usd
    # An amount below the forecast's whole range: the forecast says so now, the bill only later.
    budget = Budget(
        name="all",
        amount=round(first.forecast_low_usd * 0.9, 2),
        thresholds=[Threshold(percent=100), Threshold(percent=100, basis="forecast")],
    )
    crossed: dict[str, date] = {}
    while sim.now() < datetime(2026, 7, 1, tzinfo=UTC).timestamp() - 3600:
        found = status(cloud, budget)
        for fired in found.fired:
            crossed.setdefault(fired.key, datetime.fromtimestamp(sim.now(), UTC).date())
        sim.advance(86400)
    assert crossed["forecast:100"] == date(2026, 6, 17)
    assert date(2026, 6, 22) <= crossed["actual:100"] <= date(2026, 6, 30)
