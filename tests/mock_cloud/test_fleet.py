import re
from collections import Counter

import numpy as np

from mock_cloud import CloudSimulator


def test_same_seed_same_fleet_and_metrics() -> None:
    a, b = CloudSimulator(seed=5, size=150), CloudSimulator(seed=5, size=150)
    assert a.list_instances() == b.list_instances()
    some = a.list_instances()[17].id
    np.testing.assert_array_equal(a.metrics(some, hours=72).cpu_pct, b.metrics(some, hours=72).cpu_pct)
    assert a.costs("provider") == b.costs("provider")


def test_different_seeds_differ() -> None:
    a, b = CloudSimulator(seed=1, size=50), CloudSimulator(seed=2, size=50)
    assert [i.id for i in a.list_instances()] != [i.id for i in b.list_instances()]


def test_size_and_provider_mix_are_respected() -> None:
    assert len(CloudSimulator(seed=3, size=137).list_instances()) == 137
    only_gcp = CloudSimulator(seed=3, size=60, provider_mix={"gcp": 1.0})
    assert {i.provider for i in only_gcp.list_instances()} == {"gcp"}
    assert CloudSimulator(seed=3, size=0).list_instances() == []


def test_fleet_has_every_profile_pricing_model_and_tag() -> None:
    sim = CloudSimulator(seed=11, size=2000)
    profiles = Counter(app.profile for app in sim.applications())
    assert set(profiles) == {"steady", "diurnal", "bursty", "idle", "overloaded", "gpu"}
    instances = sim.list_instances()
    assert {i.pricing_model for i in instances} == {"on-demand", "spot", "reserved"}
    assert all({"environment", "team", "application"} <= i.tags.keys() for i in instances)
    assert {i.tags["environment"] for i in instances} == {"production", "staging", "development"}
    assert len({i.region for i in instances}) >= 12


def test_ids_look_like_each_provider_issues_them() -> None:
    patterns = {"aws": r"i-0[0-9a-f]{16}", "gcp": r"gcp-\d{16}", "azure": r"vm-[0-9a-f]{12}"}
    sim = CloudSimulator(seed=9, size=300)
    for inst in sim.list_instances():
        assert re.fullmatch(patterns[inst.provider], inst.id), inst.id


def test_old_instances_have_fourteen_days_of_hourly_history() -> None:
    sim = CloudSimulator(seed=4, size=100)
    old = next(i for i in sim.list_instances() if i.launch_time < sim.now() - 15 * 86400)
    series = sim.metrics(old.id, hours=14 * 24)
    assert len(series.timestamps) == 14 * 24
    assert np.all(np.diff(series.timestamps) == 3600)


def test_profiles_show_in_utilisation() -> None:
    sim = CloudSimulator(seed=11, size=2000)
    usage = sim.fleet_utilisation()
    p95 = dict(zip(usage.instance_ids, usage.cpu(95).tolist(), strict=True))
    profile_of = {app.name: app.profile for app in sim.applications()}
    by_profile: dict[str, list[float]] = {}
    for inst in sim.list_instances(state="running"):
        by_profile.setdefault(profile_of[inst.application], []).append(p95[inst.id])
    assert max(by_profile["idle"]) < 3.0
    assert min(by_profile["overloaded"]) > 80.0
    bursty_app = next(app for app in sim.applications() if app.profile == "bursty")
    cpu = sim.metrics(bursty_app.instance_ids[0], hours=14 * 24).cpu_pct
    assert np.percentile(cpu, 99) > 2.5 * np.median(cpu)  # bursts stand out from the baseline


def test_diurnal_load_peaks_by_day_and_dips_at_weekends() -> None:
    sim = CloudSimulator(seed=11, size=600)
    old = {i.id for i in sim.list_instances() if i.launch_time < sim.now() - 15 * 86400}
    app = next(a for a in sim.applications() if a.profile == "diurnal" and a.instance_ids[0] in old)
    series = sim.metrics(app.instance_ids[0], hours=14 * 24)
    hour_of_day = (series.timestamps // 3600 % 24).astype(int)
    by_hour = np.array([series.cpu_pct[hour_of_day == h].mean() for h in range(24)])
    assert by_hour.max() > 1.5 * by_hour.min()
    weekend = (series.timestamps // 86400 + 3) % 7 >= 5
    assert series.cpu_pct[weekend].mean() < series.cpu_pct[~weekend].mean()
