"""Cost anomaly detection: the method on series whose answers are known, and on the simulator's bill, checked
against its REST API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from mock_cloud import CloudSimulator
from mock_cloud.faults import cost_spike
from mock_cloud.server import create_app
from tests.conftest import cloud_of
from tools.analysis.anomalies import AnomalySettings, detect, score, severity
from tools.analysis.cost_series import DailyCosts, collect_daily
from tools.analysis.root_cause import find_anomalies

DAY = 86400.0
FIRST = date(2026, 3, 2)  # a Monday


def weekly(days: int = 70, level: float = 100.0, weekend: float = 0.5, noise: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(3)
    weekday = (np.arange(days) % 7) < 5
    return level * np.where(weekday, 1.0, weekend) * rng.normal(1, noise, days)


def series(*rows: np.ndarray) -> DailyCosts:
    days = [FIRST + timedelta(days=k) for k in range(len(rows[0]))]
    return DailyCosts(days, [("application", f"app-{k}") for k in range(len(rows))], np.vstack(rows))


def test_weekends_are_not_drops_and_mondays_are_not_spikes() -> None:
    found = detect(series(weekly(weekend=0.3)))
    assert found == []


def test_a_spike_is_found_with_its_days_expected_actual_and_impact() -> None:
    amounts = weekly()
    amounts[58:60] *= 1.6  # a Wednesday and a Thursday
    (anomaly,) = detect(series(amounts))
    assert (anomaly.start, anomaly.end) == (FIRST + timedelta(days=58), FIRST + timedelta(days=59))
    expected = sum(float(np.median(amounts[[d - 7, d - 14, d - 21, d - 28]])) for d in (58, 59))
    assert anomaly.expected_usd == pytest.approx(expected, abs=0.01)
    assert anomaly.actual_usd == pytest.approx(float(amounts[58:60].sum()), abs=0.01)
    assert anomaly.impact_usd == pytest.approx(anomaly.actual_usd - anomaly.expected_usd, abs=0.02)
    assert anomaly.impact_pct == pytest.approx(60, abs=4) and anomaly.severity == "medium"
    assert anomaly.key == f"application=app-0@{anomaly.start.isoformat()}"


def test_small_noisy_or_young_series_raise_nothing() -> None:
    tiny = weekly(level=3.0)
    tiny[60] *= 1.2  # 60 cents: below the smallest impact anyone would act on
    noisy = weekly(noise=0.15)
    young = np.concatenate([np.zeros(60), weekly(10)])  # ten days of history: no normal yet
    assert detect(series(tiny, noisy, young)) == []


def test_a_drop_is_not_an_anomaly() -> None:
    amounts = weekly()
    amounts[60:] *= 0.4  # an application decommissioned
    assert detect(series(amounts)) == []


def test_since_keeps_what_still_runs_then() -> None:
    amounts = weekly()
    amounts[40] *= 2
    amounts[65] *= 2
    found = detect(series(amounts), since=FIRST + timedelta(days=50))
    assert [a.start for a in found] == [FIRST + timedelta(days=65)]


def test_severity_bands() -> None:
    assert (severity(0.2), severity(0.5), severity(1.0)) == ("low", "medium", "high")


def test_scores_are_the_same_series_by_series() -> None:
    rows = [weekly(noise=n) for n in (0.01, 0.05, 0.1)]
    together = score(series(*rows)).score
    for k, row in enumerate(rows):
        assert np.allclose(score(series(row)).score[0], together[k])
    with pytest.raises(ValueError, match="weeks"):
        AnomalySettings(weeks=0)


@pytest.fixture(scope="module")
def spiked() -> tuple[CloudSimulator, str, float, float]:
    """Seed 11's fleet with one application's compute billed 1.8× on a Monday and Tuesday."""
    sim = CloudSimulator(seed=11, size=200)
    app = max(sim.costs("application", start=sim.now() - 90 * DAY).groups, key=lambda g: g.amount).key
    start = datetime(2026, 6, 8, tzinfo=UTC).timestamp()
    sim.set_faults({}, cost_spikes=[cost_spike(start, start + 2 * DAY, 1.8, application=app)])
    return sim, app, start, start + 2 * DAY


def test_a_spike_on_the_bill_is_found_with_the_clouds_own_figures(
    spiked: tuple[CloudSimulator, str, float, float],
) -> None:
    sim, app, start, end = spiked
    found = find_anomalies(cloud_of(sim), since_days=14)
    mine = next(a for a in found if (a.dimension, a.value) == ("application", app))
    assert mine.kind == "spike" and mine.start == date(2026, 6, 8) and mine.end == date(2026, 6, 9)
    rest = TestClient(create_app(sim))

    def billed(until: float) -> float:
        moment = datetime.fromtimestamp(until, UTC).isoformat()
        body = rest.get("/costs", params={"days": 2, "until": moment, "application": app}).json()
        return float(body["total"])

    assert mine.actual_usd == pytest.approx(billed(end), abs=0.01)
    weeks_before = sorted(billed(end - 7 * DAY * k) for k in range(1, 5))
    assert mine.expected_usd == pytest.approx((weeks_before[1] + weeks_before[2]) / 2, rel=0.01)
    # The machines that ran it up are the application's own.
    machines = {i.id for i in sim.list_instances(application=app)}
    assert mine.root_cause.instances and {c.key for c in mine.root_cause.instances} <= machines
    assert mine.root_cause.new_spend_share < 0.01  # a weekly backup snapshot taken meanwhile, no more
    # The same spike shows in the series that hold it, and nowhere it does not.
    holding = {("application", app), ("provider", sim.list_instances(application=app)[0].provider)}
    spikes = {(a.dimension, a.value) for a in found if a.kind == "spike" and a.start <= mine.end}
    assert ("application", app) in spikes and all(
        d in ("application", "tag:team", "region", "provider", "service") for d, _ in spikes
    )
    assert holding & spikes


def test_the_untouched_default_fleet_raises_no_spike_in_a_month() -> None:
    found = find_anomalies(cloud_of(CloudSimulator()), since_days=30)
    assert [a for a in found if a.kind == "spike"] == []
    # Launches are listed as new spend, with the machines that are new.
    for a in found:
        assert a.kind == "new_spend" and a.root_cause.new_spend_share > 0.5


def test_daily_series_come_from_one_call_per_dimension_and_match_the_bill() -> None:
    sim = CloudSimulator(seed=5, size=80)
    costs = collect_daily(cloud_of(sim), days=28, dimensions=("tag:team",))
    assert len(costs.days) == 28 and costs.days[-1] == date(2026, 6, 16)
    team = costs.keys[0][1]
    until = datetime(2026, 6, 17, tzinfo=UTC).isoformat()
    rest = TestClient(create_app(sim))
    billed = rest.get("/costs", params={"days": 1, "until": until, "tag": f"team={team}"}).json()["total"]
    assert costs.amounts[0, -1] == pytest.approx(billed, abs=1e-6)
