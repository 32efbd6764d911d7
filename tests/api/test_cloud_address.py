"""One cloud address for every way in: read by one rule, refused in one line naming what is wrong or missing
before any work starts, and AWS reached from the command line and the service (moto's server standing in
for AWS, reached through boto3's own endpoint setting)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from api.cloud_address import CloudAddress, CloudAddressError
from tests.conftest import free_port, serving

GUID = "0b1f6a3c-2d4e-4f50-8a9b-c0d1e2f3a4b5"


@pytest.mark.parametrize(
    ("text", "kind", "detail"),
    [
        ("sim", "sim", {}),
        ("http://127.0.0.1:8900/", "http", {"url": "http://127.0.0.1:8900"}),
        ("aws://us-east-1", "aws", {"regions": ("us-east-1",), "profile": None}),
        ("aws://prod@eu-west-1,us-east-2", "aws", {"regions": ("eu-west-1", "us-east-2"), "profile": "prod"}),
        (f"azure://{GUID}/rg-web", "azure", {"subscription": GUID, "resource_group": "rg-web"}),
        (
            "gcp://acme-prod-1/us-central1-a,europe-west1-b",
            "gcp",
            {"project": "acme-prod-1", "zones": ("us-central1-a", "europe-west1-b")},
        ),
    ],
)
def test_addresses_are_read_by_one_rule(text: str, kind: str, detail: dict[str, object]) -> None:
    address = CloudAddress.parse(text)
    assert address.kind == kind and address.shared is (kind != "sim")
    assert {k: getattr(address, k) for k in detail} == detail


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("aws.amazon.com", "is not a cloud address"),
        ("aws://", "no region"),
        ("aws://us-east-99x", "'us-east-99x' is not an AWS region"),
        ("azure://not-a-guid", "is not an Azure subscription id"),
        ("gcp://Acme/us-central1-a", "is not a GCP project id"),
        ("gcp://acme-prod-1/nowhere", "'nowhere' is not a GCP zone"),
        ("oracle://tenancy", "unknown cloud 'oracle://'"),
        ("http://", "has no host"),
    ],
)
def test_a_wrong_address_says_what_was_expected(text: str, said: str) -> None:
    with pytest.raises(CloudAddressError, match=said):
        CloudAddress.parse(text)


def _cli(*args: str, env: Mapping[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    """The command line as a process; `env`'s None values are taken out of its environment."""
    merged = {**os.environ, **(env or {})}
    command = [sys.executable, "-m", "api.cli", *args]
    kept = {k: v for k, v in merged.items() if v is not None}
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=kept)


def _said(result: subprocess.CompletedProcess[str]) -> str:
    return " ".join(result.stderr.replace("│", " ").split())


NO_AWS: dict[str, str | None] = {
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def test_every_command_refuses_a_cloud_it_cannot_use_in_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    wrong = _cli("recommend", "--cloud", "aws.amazon.com")
    assert wrong.returncode == 2 and "is not a cloud address" in _said(wrong)
    for command in (
        ["recommend"],
        ["anomalies", "check", "--db", db],
        ["finops", "check", "--db", db],
        ["chat", "hello", "--db", db],
    ):
        missing = _cli(*command, "--cloud", "aws://us-east-1", env=NO_AWS)
        assert missing.returncode == 1, (command, missing.stderr)
        assert missing.stderr.startswith("optiinfra: no AWS credentials found: set AWS_ACCESS_KEY_ID")
        assert len(missing.stderr.strip().splitlines()) == 1
    profile = _cli("recommend", "--cloud", "aws://nobody@us-east-1", env=NO_AWS)
    assert profile.stderr.strip() == "optiinfra: no AWS profile named 'nobody' (see ~/.aws/config)"
    azure = _cli("recommend", "--cloud", f"azure://{GUID}")
    assert azure.returncode == 1 and azure.stderr.startswith(
        "optiinfra: azure:// clouds are not supported yet"
    )
    through_env = _cli("recommend", env={"OPTIINFRA_CLOUD": "gcp://acme-prod-1"})
    assert through_env.returncode == 1 and "gcp:// clouds are not supported yet" in through_env.stderr
    in_process = _cli("workflow", "start", "rightsizing", "--cloud", "sim", "--db", db)
    assert in_process.returncode == 2 and "a workflow outlives this process" in _said(in_process)
    serve = _cli("serve", "--port", str(free_port()), "--db", db, "--cloud", "aws://us-east-1", env=NO_AWS)
    assert serve.returncode == 1 and serve.stderr.startswith("optiinfra: no AWS credentials found")


@pytest.fixture
def aws_endpoint() -> Iterator[dict[str, str]]:
    """moto's server on loopback, and the environment that points boto3 at it (AWS_ENDPOINT_URL)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/nonexistent",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
        }
    finally:
        server.stop()


def test_aws_is_reached_from_the_command_line_and_the_service(
    aws_endpoint: dict[str, str], tmp_path: Path
) -> None:
    ec2 = boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=aws_endpoint["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    tags = [{"Key": "application", "Value": "web"}, {"Key": "team", "Value": "ml"}]
    launched = ec2.run_instances(
        ImageId="ami-12c6146b",
        InstanceType="m5.large",
        MinCount=3,
        MaxCount=3,
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )
    ids = sorted(i["InstanceId"] for i in launched["Instances"])
    listed = _cli("recommend", "--cloud", "aws://us-east-1", "--json", env=aws_endpoint)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []  # three machines with no metrics yet: nothing to advise
    db = f"sqlite:///{tmp_path / 'aws.db'}"
    with serving(
        ["serve", "--db", db, "--cloud", "aws://us-east-1", "--no-auth"],
        env=aws_endpoint,
        log=tmp_path / "serve.log",
    ) as (url, _):
        page = httpx.get(f"{url}/api/v1/instances", timeout=60).json()
        assert sorted(i["id"] for i in page["items"]) == ids and page["total"] == 3
        assert {i["instance_type"] for i in page["items"]} == {"m5.large"}
        assert httpx.get(f"{url}/readyz", timeout=60).json() == {"status": "ready"}
