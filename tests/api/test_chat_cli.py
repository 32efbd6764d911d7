"""`optiinfra route` and `optiinfra chat` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.api.test_workflow_cli import ok_json, optiinfra
from tests.conftest import free_port

CHAT_KEYS = {"thread_id", "route", "reply", "data", "pending_approval"}


def test_route_prints_one_object_with_the_route_its_parameters_confidence_and_source() -> None:
    found = ok_json("route", "rightsize vm-0123456789ab to Standard_D2s_v3", "--json")
    assert set(found) == {"route", "params", "confidence", "source"}
    assert (found["route"], found["source"]) == ("rightsizing", "embedded")
    assert found["params"]["instance_ids"] == ["vm-0123456789ab"]
    assert found["params"]["instance_type"] == "Standard_D2s_v3"


def test_route_reads_one_request_per_line_and_prints_one_object_per_line() -> None:
    lines = "where can we save money?\nhello\napprove it\nmigrate gcp-0000000000001234 to spot\n"
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "route"], input=lines, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    routes = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["route"] for r in routes] == ["cost", "general", "approval", "spot_migration"]
    assert routes[2]["params"]["decision"] == "approve"


def test_a_model_that_cannot_be_reached_leaves_the_embedded_router_in_charge() -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there: refused at once
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "route", "list my instances", "--json", "--llm", "ollama:llama3.2"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "OLLAMA_HOST": closed},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "embedded"


def test_a_conversation_across_invocations_starts_approves_and_reports(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'chat.db'}"
    common = ("--db", db, "--thread", "ops", "--size", "300", "--json")
    started = ok_json("chat", "move the staging instances to spot", *common)
    assert CHAT_KEYS <= set(started)
    assert (started["thread_id"], started["route"]) == ("ops", "spot_migration")
    pending = started["pending_approval"]
    assert pending and pending["instance_ids"]

    approved = ok_json("chat", "approve", *common, "--by", "carol")
    assert approved["route"] == "approval" and approved["pending_approval"] is None
    assert "completed" in approved["reply"]

    status = ok_json("chat", "how did it go?", *common)
    assert status["route"] == "status"
    assert status["data"]["workflow"]["report"]["decided_by"] == "carol"
    # The workflow the chat started is an ordinary workflow: the workflow commands see it.
    listed = ok_json("workflow", "list", "--db", db, "--json")
    assert [w["workflow_id"] for w in listed] == [pending["workflow_id"]]


def test_an_interactive_session_answers_each_line_until_end_of_input(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "chat", "--db", "memory", "--size", "100"],
        input="hello\nwhat did we spend over the last 30 days?\n/history\n",
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Hello! I can answer questions" in out
    assert "Whole fleet, last 30 days:" in out
    assert out.count("you: ") == 2  # /history replays both exchanges


def test_bad_input_is_one_clear_line_and_a_failing_status() -> None:
    empty = optiinfra("chat", "   ", "--db", "memory")
    assert empty.returncode == 1
    assert empty.stderr.strip() == "optiinfra: say something: the message is empty"
    bad_llm = optiinfra("route", "hello", "--llm", "gpt:4")
    assert bad_llm.returncode == 2 and "expected ollama:MODEL" in bad_llm.stderr
    bad_db = optiinfra("chat", "hello", "--db", "mysql://x")
    assert bad_db.returncode == 2 and "--db" in bad_db.stderr
    no_cloud = optiinfra(
        "chat", "what did we spend last week?", "--db", "memory", "--cloud", "http://127.0.0.1:9"
    )
    assert no_cloud.returncode == 1 and "I could not answer that" in no_cloud.stdout


def test_the_chat_demo_runs_its_conversation_to_a_completed_migration() -> None:
    result = optiinfra("demo", "chat", "--size", "200")
    assert result.returncode == 0, result.stderr
    assert "Awaiting your approval" in result.stdout
    assert "completed" in result.stdout and "outside what I can help with" in result.stdout
