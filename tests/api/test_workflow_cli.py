"""`optiinfra demo spot-migration|rightsizing` and `optiinfra workflow …` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import serve_simulator

REPORT_FIELDS = {
    "status", "instances_analyzed", "opportunities", "approvals", "waves", "changed", "rolled_back",
    "monthly_savings", "success_rate", "max_latency_change_pct", "max_error_rate_change_pt",
}  # fmt: skip


def optiinfra(*args: str) -> subprocess.CompletedProcess[str]:
    wide = {**os.environ, "COLUMNS": "250"}  # usage errors are boxed to the terminal's width: keep them whole
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, timeout=300, env=wide
    )


def ok_json(*args: str) -> Any:
    result = optiinfra(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def cloud() -> Iterator[str]:
    with serve_simulator(7, 300) as url:
        yield url


def test_spot_migration_demo_reports_as_json() -> None:
    report = ok_json("demo", "spot-migration", "--size", "300", "--json")
    assert REPORT_FIELDS <= set(report)
    assert report["status"] == "completed" and report["changed"] and report["rolled_back"] == []
    assert [w["number"] for w in report["waves"]] == [1, 2, 3] and report["monthly_savings"] > 0
    assert {a["agent"] for a in report["approvals"]} == {"performance", "resource", "application"}


def test_the_degrade_scenario_rolls_everything_back() -> None:
    report = ok_json("demo", "rightsizing", "--size", "600", "--scenario", "degrade", "--json")
    assert report["status"] == "rolled_back" and report["changed"] == [] and report["monthly_savings"] == 0
    changed_before = sum(w["changed"] for w in report["waves"])
    assert len(report["rolled_back"]) == changed_before > 0 and report["waves"][-1]["degraded"]
    assert report["success_rate"] == 0.0  # kept ÷ approved: nothing was kept
    assert report["max_latency_change_pct"] > 5  # the fault's +50 %, reported as latency, not as errors


def test_the_demo_shows_its_progress() -> None:
    result = optiinfra("demo", "spot-migration", "--size", "300")
    assert result.returncode == 0, result.stderr
    for words in ("Plan:", "performance", "Decision: approve", "Wave 1", "Wave 3", "completed"):
        assert words in result.stdout


def test_start_approve_part_and_audit(cloud: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wf.db'}"
    waiting = ok_json(
        "workflow", "start", "spot-migration", "--cloud", cloud, "--db", db, "--provider", "aws", "--json"
    )
    assert waiting["status"] == "awaiting_approval" and waiting["pending"]["why"] == ["auto-approve is off"]
    wf = waiting["workflow_id"]
    assert ok_json("workflow", "status", wf, "--db", db, "--json")["pending"] == waiting["pending"]
    listed = ok_json("workflow", "list", "--db", db, "--json")
    assert [(r["workflow_id"], r["status"]) for r in listed] == [(wf, "awaiting_approval")]

    chosen = waiting["pending"]["instance_ids"][:2]
    done = ok_json(
        "workflow", "approve", wf, "--by", "alice", "--only", ",".join(chosen), "--db", db, "--json"
    )
    assert done["status"] == "completed" and sorted(done["report"]["changed"]) == sorted(chosen)
    for original, replacement in done["report"]["replacements"].items():
        moved = httpx.get(f"{cloud}/instances/{replacement}").json()
        assert moved["pricing_model"] == "spot" and moved["tags"]["replaces"] == original

    audit = ok_json("workflow", "audit", wf, "--db", db, "--json")
    kinds = [e["kind"] for e in audit]
    assert kinds[0] == "plan" and kinds.count("review") == 3 and kinds[-1] == "status"
    decision = next(e for e in audit if e["kind"] == "decision")
    assert decision["actor"] == "alice" and decision["detail"]["approved"] == chosen
    assert sorted(e["instance_id"] for e in audit if e["kind"] == "change") == sorted(chosen)

    again = optiinfra("workflow", "reject", wf, "--db", db)
    assert (
        again.returncode == 1
        and again.stderr.count("\n") == 1
        and "was decided already: approve by alice" in again.stderr
    )


def test_bad_input_is_one_line_and_a_non_zero_exit(cloud: str, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'wf.db'}"
    unknown = optiinfra("workflow", "status", "wf-nope", "--db", db)
    assert unknown.returncode == 1 and unknown.stderr == "optiinfra: no workflow 'wf-nope' in this database\n"
    bad_db = optiinfra("workflow", "status", "wf-nope", "--db", "mysql://x")
    assert bad_db.returncode == 2 and "unsupported database URL" in bad_db.stderr
    bad_kind = optiinfra("workflow", "start", "teleport", "--cloud", cloud, "--db", db)
    assert bad_kind.returncode == 2 and "spot-migration, rightsizing" in bad_kind.stderr
    bad_waves = optiinfra(
        "workflow", "start", "rightsizing", "--cloud", cloud, "--db", db, "--waves", "0.5,0.2"
    )
    assert bad_waves.returncode == 2 and "waves must rise" in bad_waves.stderr
    bad_scenario = optiinfra("demo", "rightsizing", "--scenario", "chaos")
    assert bad_scenario.returncode == 2 and "normal or degrade" in bad_scenario.stderr
    no_cloud = optiinfra("workflow", "start", "rightsizing", "--cloud", "http://127.0.0.1:9", "--db", db)
    assert (
        no_cloud.returncode == 1
        and no_cloud.stderr.startswith("optiinfra: ")
        and "Traceback" not in no_cloud.stderr
    )
    start = ("workflow", "start", "rightsizing", "--cloud", cloud, "--db", db)
    for flags, says in [
        (("--observe-minutes", "inf"), "finite number"),
        (("--observe-minutes", "1e12"), "less than or equal to 1440"),
        (("--tag", "env"), "'env': expected key=value"),
        (("--by", ""), "a name of 1 to 128 characters"),
        (("--by", "x" * 129), "a name of 1 to 128 characters"),
    ]:
        refused = optiinfra(*start, *flags)
        assert refused.returncode == 2 and says in refused.stderr, (flags, refused.stderr)
        assert "Traceback" not in refused.stderr
    unknown_id = optiinfra(*start, "--instances", "i-doesnotexist")
    assert unknown_id.returncode == 1
    assert unknown_id.stderr == "optiinfra: no such instance in this cloud: i-doesnotexist\n"
    long_comment = optiinfra("workflow", "reject", "wf-nope", "--db", db, "--comment", "x" * 2001)
    assert long_comment.returncode == 2 and "at most 2000 characters" in long_comment.stderr
    listed = json.loads(optiinfra("workflow", "list", "--db", db, "--json").stdout)
    assert [r["status"] for r in listed] == ["failed"]  # the unreachable cloud's: nothing refused was started


def test_off_hours_schedules_from_the_command_line(tmp_path: Path) -> None:
    """Scheduled as a rollout, kept by `finops check` run from cron, measured from the bill a week on."""
    db = f"sqlite:///{tmp_path / 'wf.db'}"
    with serve_simulator(7, 300) as cloud:
        scope = ("--cloud", cloud, "--db", db, "--tag", "environment=development")
        waiting = ok_json("workflow", "start", "off-hours", *scope, "--json")
        wf = waiting["workflow_id"]
        done = ok_json("workflow", "approve", wf, "--by", "alice", "--db", db, "--json")
        report = done["report"]
        assert done["status"] == "completed" and report["changed"]
        assert report["measured_monthly_savings"] is None
        scheduled = {i: httpx.get(f"{cloud}/instances/{i}").json() for i in report["changed"]}
        assert all(m["tags"]["off-hours"].startswith("stop=20:00;start=07:00") for m in scheduled.values())

        first = optiinfra("finops", "check", "--cloud", cloud, "--db", db)
        assert first.returncode == 0 and "Off-hours schedules: kept from now on" in first.stdout
        httpx.post(f"{cloud}/clock/advance", json={"seconds": 24 * 3600}).raise_for_status()
        kept = optiinfra("finops", "check", "--cloud", cloud, "--db", db)
        assert kept.returncode == 0, kept.stderr
        assert f"Off-hours schedules: {len(scheduled)} machine(s) scheduled" in kept.stdout
        states = {httpx.get(f"{cloud}/instances/{i}").json()["state"] for i in scheduled}
        assert states <= {"stopped", "stopping", "running", "pending"} and len(states) >= 1

        early = optiinfra("workflow", "savings", wf, "--db", db)
        assert early.returncode == 0 and "not measured yet" in early.stdout
        httpx.post(f"{cloud}/clock/advance", json={"seconds": 7 * 24 * 3600}).raise_for_status()
        measured = ok_json("workflow", "savings", wf, "--db", db, "--json")
        assert measured["monthly_savings"] is not None and measured["hours"] == 168
