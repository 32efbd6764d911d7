"""The `optiinfra` command as a user runs it: a real process, its exit status, stdout and stderr."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from api.cli import app
from tests.conftest import serve_simulator


def optiinfra(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_catalog_json() -> None:
    result = optiinfra("cloud", "catalog", "--provider", "aws", "--json")
    assert result.returncode == 0, result.stderr
    types = json.loads(result.stdout)
    assert len(types) >= 100
    m5 = next(t for t in types if t["name"] == "m5.large")
    fields = (
        "name",
        "provider",
        "vcpus",
        "memory_gb",
        "gpu_count",
        "on_demand_hourly",
        "spot_hourly",
        "reserved_hourly",
    )
    assert {k: m5[k] for k in fields} == {
        "name": "m5.large", "provider": "aws", "vcpus": 2, "memory_gb": 8.0, "gpu_count": 0,
        "on_demand_hourly": 0.096, "spot_hourly": m5["spot_hourly"], "reserved_hourly": 0.06,
    }  # fmt: skip


def test_catalog_in_another_region_and_gpus_only() -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["cloud", "catalog", "--provider", "azure", "--region", "westeurope", "--gpu", "--json"]
    )
    assert result.exit_code == 0, result.output
    types = json.loads(result.output)
    assert types and all(t["gpu_count"] > 0 and t["region"] == "westeurope" for t in types)


def test_fleet_summary_json() -> None:
    result = CliRunner().invoke(app, ["cloud", "fleet", "--seed", "1", "--size", "50", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert sum(summary["by_provider"].values()) == 50
    assert sum(summary["by_pricing_model"].values()) == 50
    assert summary["monthly_cost"] == pytest.approx(summary["hourly_cost"] * 730, rel=1e-3)


def test_fleet_table() -> None:
    result = CliRunner().invoke(app, ["cloud", "fleet", "--seed", "1", "--size", "30"])
    assert result.exit_code == 0 and "USD/month" in result.output


def test_bad_input_is_one_line_and_a_non_zero_exit() -> None:
    result = optiinfra("cloud", "catalog", "--provider", "oracle")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "optiinfra: InvalidParameterValue: Unknown provider 'oracle'; expected one of: aws, gcp, azure"
    ]
    assert "Traceback" not in result.stderr
    negative = optiinfra("cloud", "fleet", "--size", "-1")
    assert negative.returncode == 2 and "Traceback" not in negative.stderr


def test_cloud_tour_demo() -> None:
    result = CliRunner().invoke(app, ["demo", "cloud", "--seed", "7", "--size", "120"])
    assert result.exit_code == 0, result.output
    sections = (
        "Rightsizing by hand",
        "Spot migration",
        "Faults and idempotency",
        "Accrued cost",
        "Savings the analysis",
    )
    for section in sections:
        assert section in result.output
    assert "changes nothing (0 new events)" in result.output


@pytest.fixture
def served() -> Iterator[str]:
    with serve_simulator(seed=4, size=40) as url:
        yield url


def test_serve_runs_the_simulator_over_http(served: str) -> None:
    assert httpx.get(f"{served}/instances").json()["total"] == 40
    advanced = httpx.post(f"{served}/clock/advance", json={"seconds": 3600}).json()
    assert advanced["now"] == "2026-06-17T07:00:00Z"
    assert httpx.get(f"{served}/docs").status_code == 200


def test_recommend_json_carries_the_fields_and_numbers() -> None:
    result = CliRunner().invoke(app, ["recommend", "--seed", "3", "--size", "200", "--kind", "rightsize",
                                      "--kind", "idle", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    recs = json.loads(result.output)
    assert recs and {r["kind"] for r in recs} <= {"rightsize", "idle"}
    fields = {"instance_id", "kind", "current", "target", "monthly_savings", "risk", "confidence", "reasons"}
    assert all(fields <= set(r) for r in recs)
    assert all(r["reasons"] and any(ch.isdigit() for ch in r["reasons"][0]) for r in recs)
    assert [r["priority"] for r in recs] == sorted((r["priority"] for r in recs), reverse=True)


def test_recommend_storage_kinds_name_their_resources() -> None:
    args = ["--kind", "unattached-volume", "--kind", "old_snapshot", "--json"]
    result = CliRunner().invoke(app, ["recommend", "--seed", "3", "--size", "200", *args])
    assert result.exit_code == 0, result.output
    recs = json.loads(result.output)
    assert {r["kind"] for r in recs} == {"unattached_volume", "old_snapshot"}
    assert {r["resource"] for r in recs} == {"volume", "snapshot"}
    assert all(r["monthly_savings"] > 0 and "USD/month" in " ".join(r["reasons"]) for r in recs)


def test_storage_demo() -> None:
    result = CliRunner().invoke(app, ["demo", "storage", "--seed", "7", "--size", "150"])
    assert result.exit_code == 0, result.output
    for seen in ("What the account holds", "address release", "volume retype", "volume cleanup",
                 "snapshot cleanup", "The way back", "a person approves"):  # fmt: skip
        assert seen in result.output, seen


def test_recommend_table_and_scope() -> None:
    result = CliRunner().invoke(
        app, ["recommend", "--seed", "3", "--size", "200", "--provider", "gcp", "--limit", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "recommendations" in result.output and "USD/month" in result.output
    assert "i-0" not in result.output and "vm-" not in result.output  # only GCP machines


def test_recommend_refuses_bad_input_in_one_line() -> None:
    for args in (["--kind", "cheaper"], ["--provider", "oracle"]):
        result = optiinfra("recommend", "--size", "20", *args)
        assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_recommend_against_a_served_simulator(served: str) -> None:
    result = CliRunner().invoke(app, ["recommend", "--cloud", served, "--kind", "spot", "--json"])
    assert result.exit_code == 0, result.output
    local = CliRunner().invoke(app, ["recommend", "--seed", "4", "--size", "40", "--kind", "spot", "--json"])
    assert json.loads(result.output) == json.loads(local.output)  # the same fleet, over HTTP or in-process


REPOSITORY = Path(__file__).resolve().parents[2]


def plain_python(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python demos/…` as typed in a fresh shell: the base interpreter, no virtual environment active."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    base = getattr(sys, "_base_executable", sys.executable)
    return subprocess.run(
        [base, str(script), *args], capture_output=True, text=True, timeout=120, env=env, cwd=script.parent
    )


def test_a_demo_runs_with_the_system_python_when_the_project_venv_exists() -> None:
    if Path(sys.prefix).resolve() != (REPOSITORY / ".venv").resolve():
        pytest.skip("the tests do not run from the repository's own .venv")
    result = plain_python(REPOSITORY / "demos" / "cloud_tour.py", "7", "60")
    assert result.returncode == 0, result.stderr
    assert "Spot migration" in result.stdout


def test_a_demo_without_an_installed_project_says_how_to_install(tmp_path: Path) -> None:
    for name in ("interpreter.py", "spot_migration.py"):
        shutil.copy(REPOSITORY / "demos" / name, tmp_path / name)
    result = plain_python(tmp_path / "spot_migration.py")
    if result.returncode == 0:
        pytest.skip("the base interpreter has OptiInfra installed")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "OptiInfra is not installed for this Python: run `python3 -m venv .venv && "
        ".venv/bin/pip install -e .` in the repository first"
    ]


def test_help_lists_commands_by_purpose_and_flags_without_a_value() -> None:
    top = optiinfra("--help")
    assert top.returncode == 0, top.stderr
    order = ["recommend", "chat", "workflow", "serve", "apikey", "demo", "cloud", "route"]
    positions = [top.stdout.index(f"│ {name} ") for name in order]
    assert positions == sorted(positions)
    assert top.stdout.index("Find and carry out savings") < positions[0]
    start = optiinfra("workflow", "start", "--help")
    assert "--auto-approve" in start.stdout and "<float>" in start.stdout
    assert "<bool>" not in top.stdout + start.stdout


@pytest.mark.parametrize("command", [["cloud", "serve"], ["serve", "--db", "memory"]])
def test_a_busy_port_is_one_line_before_any_banner(command: list[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = optiinfra(*command, "--port", str(port))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"optiinfra: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]


def test_off_hours_recommendations_and_demo() -> None:
    result = CliRunner().invoke(app, ["recommend", "--seed", "7", "--size", "300", "--kind", "off-hours"])
    assert result.exit_code == 0, result.output
    assert "off_hours" in result.output and "20:00-07:00, weekends" in result.output
    demo = CliRunner().invoke(app, ["demo", "off-hours", "--seed", "7", "--size", "300"])
    assert demo.exit_code == 0, demo.output
    for seen in ("Machines idle while their team is away", "(off_hours): completed", "7 days of the service",
                 "USD/month measured on the bill"):  # fmt: skip
        assert seen in demo.output, seen
