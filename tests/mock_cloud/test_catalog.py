from pathlib import Path

import pytest

from mock_cloud.catalog import REGIONS, InterruptionBand, build_instance_types, load_catalog
from mock_cloud.catalog.built import CACHE_DIR_VARIABLE, cache_path, read_built, write_built
from mock_cloud.errors import InvalidInstanceType, InvalidParameterValue


def test_catalog_is_large_and_real_not_a_handful() -> None:
    catalog = load_catalog()
    assert len(catalog.types("aws")) >= 100
    assert len(catalog.types("azure")) >= 50
    assert len(catalog.types("gcp")) >= 30
    assert len(catalog.types("aws", gpu=True)) >= 10
    assert len(catalog.types("azure", gpu=True)) >= 5


@pytest.mark.parametrize(
    ("provider", "region", "name", "on_demand", "vcpus", "memory_gb"),
    [
        ("aws", "us-east-1", "m5.large", 0.096, 2, 8.0),
        ("aws", "eu-west-1", "m5.large", 0.114, 2, 8.0),
        # GCP prices a shape per vCPU and GB: 2 x 0.031611 + 7.5 x 0.004237.
        ("gcp", "us-central1", "n1-standard-2", 0.095, 2, 7.5),
        ("azure", "eastus", "Standard_D2s_v3", 0.096, 2, 8.0),
    ],
)
def test_on_demand_prices_come_from_libcloud_data(
    provider: str, region: str, name: str, on_demand: float, vcpus: int, memory_gb: float
) -> None:
    offering = load_catalog().offering(provider, region, name)
    assert offering.on_demand_hourly == pytest.approx(on_demand, abs=5e-4)
    assert (offering.instance_type.vcpus, offering.instance_type.memory_gb) == (vcpus, memory_gb)


def test_holes_in_the_price_data_are_estimated_and_marked() -> None:
    catalog = load_catalog()
    m5 = catalog.offering("aws", "us-east-1", "m5.xlarge")  # 0.0 in pricing.json; AWS lists 0.192
    assert m5.on_demand_hourly == pytest.approx(0.192, rel=0.03)
    assert m5.to_dict()["price_source"] == "estimated"
    assert catalog.offering("aws", "us-east-1", "m5.large").to_dict()["price_source"] == "libcloud"
    assert not catalog.get("aws", "p3.2xlarge").offered_in("us-west-1")  # truly not sold there


def test_spot_prices_from_data_where_the_data_has_them() -> None:
    catalog = load_catalog()
    # Azure low-priority and GCP preemptible prices are in pricing.json.
    assert catalog.offering("azure", "eastus", "Standard_D2s_v3").spot_hourly == pytest.approx(0.019)
    n1 = catalog.offering("gcp", "us-central1", "n1-standard-2")
    assert n1.spot_hourly == pytest.approx(2 * 0.006655 + 7.5 * 0.000892, rel=0.05)


def test_gpu_shapes() -> None:
    catalog = load_catalog()
    p3 = catalog.get("aws", "p3.2xlarge")
    assert (p3.vcpus, p3.memory_gb, p3.gpu_count) == (8, 61.0, 1)
    nc = catalog.get("azure", "Standard_NC6s_v3")
    assert (nc.vcpus, nc.gpu_count) == (6, 1)


def test_every_offering_discounts_spot_and_reserved() -> None:
    catalog = load_catalog()
    for provider, regions in REGIONS.items():
        for offering in catalog.offerings(provider, regions[0]):
            assert 0 < offering.spot_hourly < offering.on_demand_hourly, offering.instance_type.name
            assert 0 < offering.reserved_hourly < offering.on_demand_hourly, offering.instance_type.name


def test_offerings_are_cheapest_first_and_filter_gpus() -> None:
    offerings = load_catalog().offerings("aws", "us-east-1")
    prices = [o.on_demand_hourly for o in offerings]
    assert prices == sorted(prices)
    assert all(o.instance_type.gpu_count > 0 for o in load_catalog().offerings("aws", gpu=True))


def test_all_interruption_bands_occur() -> None:
    bands = {t.interruption_band for t in load_catalog().types()}
    assert bands == set(InterruptionBand)


def test_unknown_type_region_and_provider_are_refused_clearly() -> None:
    catalog = load_catalog()
    with pytest.raises(InvalidInstanceType, match="m5.gigantic"):
        catalog.get("aws", "m5.large".replace("large", "gigantic"))
    with pytest.raises(InvalidParameterValue, match="known regions"):
        catalog.offerings("aws", "mars-north-1")
    with pytest.raises(InvalidParameterValue, match="aws, gcp, azure"):
        catalog.types("oracle")


def test_the_built_catalog_read_back_from_its_cache_is_the_one_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path))
    built = build_instance_types()
    path = cache_path()
    assert path.parent == tmp_path and not path.exists()
    write_built(path, built)
    assert read_built(path) == built  # every field of every type, prices to the last digit


def test_a_damaged_or_unwritable_cache_costs_a_rebuild_not_a_wrong_price(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_VARIABLE, str(tmp_path))
    path = cache_path()
    path.write_text('[{"provider": "aws", "name": "m5.large"')  # cut off mid-write by another tool
    assert read_built(path) is None
    blocked = tmp_path / "a-file-not-a-directory"
    blocked.write_text("")
    write_built(blocked / "catalog.json", build_instance_types())  # cannot be written: no error
    assert not (blocked / "catalog.json").exists()
