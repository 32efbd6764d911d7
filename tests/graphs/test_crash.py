"""Killing the process that runs a rollout (SIGKILL, no goodbye) at several points, then resuming it:
every approved instance is changed exactly once and the report is the one an uninterrupted run gives.

The rollout runs as `optiinfra workflow start|resume` against a simulator server with a manual clock, so
the cloud outlives the killed process, exactly as a real cloud would.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import serve_simulator

SEED, SIZE = 7, 300
KIND = "spot-migration"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "api.cli", "workflow", *args]


def start_args(cloud: str, db: str, workflow_id: str) -> list[str]:
    # 40 AWS changes in waves, saving less than the 10,000 USD/month past which the policy calls a person.
    return cli("start", KIND, "--cloud", cloud, "--db", db, "--auto-approve", "--provider", "aws",
               "--max-changes", "40", "--id", workflow_id, "--json")  # fmt: skip


def launches(cloud: str, pricing: str = "spot") -> list[dict[str, Any]]:
    """The replacements the cloud launched (`spot` ones for the rollout, `on-demand` ones to roll back)."""
    events = httpx.get(f"{cloud}/events").json()
    return [e for e in events if e["kind"] == "launched" and e["detail"].startswith(f"{pricing} replacement")]


def finish(args: list[str]) -> dict[str, Any]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "workflow_id"}


def kill_when(args: list[str], cloud: str, launched: int, pricing: str = "spot") -> bool:
    """Run `args` and SIGKILL it once `launched` replacements exist; False if it finished first."""
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while process.poll() is None:  # each look at the cloud's events is an HTTP call: that paces the loop
            if len(launches(cloud, pricing)) >= launched:
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
                return True
        assert process.returncode == 0, process.stderr.read() if process.stderr else ""
        return False
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture(params=["sqlite", "postgresql"])
def crash_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rollouts.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


def test_killed_and_resumed_rollout_changes_each_instance_once(crash_db: str, tmp_path: Path) -> None:
    with serve_simulator(SEED, SIZE) as reference_cloud:
        reference = finish(
            start_args(reference_cloud, f"sqlite:///{tmp_path / 'reference.db'}", "wf-reference")
        )
    assert reference["status"] == "completed"
    ends = [sum(w["instances"] for w in reference["report"]["waves"][: k + 1]) for k in range(3)]
    assert ends[0] >= 2, "too small a rollout to kill inside its waves"
    inside_each_wave = (ends[0] // 2, (ends[0] + ends[1]) // 2, (ends[1] + ends[2]) // 2)

    with serve_simulator(SEED, SIZE) as cloud:
        killed = 0
        args = start_args(cloud, crash_db, "wf-crash")
        for point in inside_each_wave:
            killed += kill_when(args, cloud, point)
            args = cli("resume", "wf-crash", "--db", crash_db, "--json")  # the cloud URL is remembered
        assert killed >= 2, "the run outpaced the kills: too few crashes to test anything"
        resumed = finish(args)
        events = launches(cloud)

    assert comparable(resumed["report"]) == comparable(reference["report"])
    per_original = Counter(e["detail"].removeprefix("spot replacement for ") for e in events)
    assert per_original == Counter(reference["report"]["changed"])  # one replacement each, none twice
    assert all(n == 1 for n in per_original.values())


def test_a_killed_rollback_is_resumed_to_the_end(tmp_path: Path) -> None:
    """Quality breaks with wave 1; the process dies while rolling back; the resumed run restores all."""
    db = f"sqlite:///{tmp_path / 'rollouts.db'}"
    with serve_simulator(SEED, SIZE) as cloud:
        httpx.post(
            f"{cloud}/faults",
            json={"rules": {}, "degradation": {"latency_factor": 1.5, "error_rate_increase": 0.02}},
        ).raise_for_status()
        assert kill_when(
            start_args(cloud, db, "wf-rollback"), cloud, 2, "on-demand"
        )  # 2 restored, then killed
        resumed = finish(cli("resume", "wf-rollback", "--db", db, "--json"))
        moved, back = launches(cloud), launches(cloud, "on-demand")
    report = resumed["report"]
    assert report["status"] == "rolled_back" and len(report["waves"]) == 1
    assert len(report["rolled_back"]) == len(moved) == report["waves"][0]["changed"] > 2
    per_replacement = Counter(e["detail"] for e in back)  # each spot replacement moved back exactly once
    assert len(per_replacement) == len(moved) and all(n == 1 for n in per_replacement.values())
