"""One cloud address for every way in: read by one rule, refused in one line naming what is wrong or missing
before any work starts, and AWS reached from the command line and the service (moto's server standing in
for AWS, reached through boto3's own endpoint setting)."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import boto3
import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from moto.server import ThreadedMotoServer

from api.cloud_address import CloudAddress, CloudAddressError
from tests.conftest import Tls, free_port, serve_simulator, serving

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


# No Application Default Credentials anywhere, and no probe of a metadata server.
NO_GCP: dict[str, str | None] = {
    "GOOGLE_APPLICATION_CREDENTIALS": None,
    "CLOUDSDK_CONFIG": "/nonexistent",
    "NO_GCE_CHECK": "True",
}
NO_AWS: dict[str, str | None] = {
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_CONFIG_FILE": "/nonexistent",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.mark.parametrize(
    "command",
    [["recommend"], ["chat"], ["serve"], ["workflow", "start"], ["budget", "status"], ["finops", "check"]],
)
def test_each_command_s_help_shows_the_cloud_addresses(command: list[str]) -> None:
    shown = _cli(*command, "--help", env={"COLUMNS": "200"})
    assert shown.returncode == 0, shown.stderr
    assert (
        "azure://SUBSCRIPTION[/RESOURCE-GROUP]" in shown.stdout and "gcp://PROJECT[/ZONE,…]" in shown.stdout
    )


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
    # Only the environment's credential is tried: no probe of a metadata service or of `az`.
    azure = _cli(
        "recommend", "--cloud", f"azure://{GUID}", env={"AZURE_TOKEN_CREDENTIALS": "EnvironmentCredential"}
    )
    assert azure.returncode == 1 and azure.stderr.startswith(
        "optiinfra: no Azure credentials found: set AZURE_"
    )
    assert len(azure.stderr.strip().splitlines()) == 1
    through_env = _cli("recommend", env={"OPTIINFRA_CLOUD": "gcp://acme-prod-1", **NO_GCP})
    assert through_env.returncode == 1, through_env.stderr
    assert through_env.stderr.startswith(
        "optiinfra: no GCP credentials found: set GOOGLE_APPLICATION_CREDENTIALS"
    )
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


def test_azure_is_reached_from_the_command_line_and_the_service(tls: Tls, tmp_path: Path) -> None:
    """The simulator plays Resource Manager (over TLS, as the SDK requires) and App Service's managed
    identity endpoint, so DefaultAzureCredential fetches a real token and the Azure SDK does the rest."""
    with serve_simulator(seed=42, size=150, tls=tls) as arm:
        env = {
            "OPTIINFRA_AZURE_ENDPOINT": arm,
            "IDENTITY_ENDPOINT": f"{arm}/msi/token",
            "IDENTITY_HEADER": "simulated",
            "AZURE_TOKEN_CREDENTIALS": "ManagedIdentityCredential",
            "REQUESTS_CA_BUNDLE": tls.ca,  # trust the test CA, as a corporate proxy's CA is trusted
        }
        rest = httpx.Client(base_url=arm, verify=ssl.create_default_context(cafile=tls.ca), timeout=30)
        listed = rest.get("/instances", params={"provider": "azure", "limit": 500}).json()["instances"]
        vms = sorted(i["id"] for i in listed if i["state"] != "terminated")
        advice = _cli("recommend", "--cloud", f"azure://{GUID}", "--json", env=env)
        assert advice.returncode == 0, advice.stderr
        found = json.loads(advice.stdout)
        assert found and {r["instance_id"] for r in found} <= set(vms)
        db = f"sqlite:///{tmp_path / 'azure.db'}"
        with serving(
            ["serve", "--db", db, "--cloud", f"azure://{GUID}", "--no-auth"],
            env=env,
            log=tmp_path / "serve.log",
        ) as (url, _):
            page = httpx.get(f"{url}/api/v1/instances", params={"limit": 200}, timeout=60).json()
            assert sorted(i["id"] for i in page["items"]) == vms and page["total"] == len(vms)
            assert {i["provider"] for i in page["items"]} == {"azure"}
        rest.close()


def test_gcp_is_reached_from_the_command_line_and_the_service(tmp_path: Path) -> None:
    """The simulator plays Compute Engine (REST), Cloud Monitoring (gRPC) and Google's OAuth token endpoint,
    so Application Default Credentials (a service-account key file) get a real token and the SDKs do the
    rest."""
    monitoring = free_port()
    with serve_simulator(seed=42, size=150, monitoring_port=monitoring) as url:
        adc = tmp_path / "adc.json"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
        adc.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": "acme-optiinfra-1",
                    "private_key_id": "k1",
                    "private_key": pem,
                    "client_email": "optiinfra@acme-optiinfra-1.iam.gserviceaccount.com",
                    "client_id": "1",
                    "token_uri": f"{url}/oauth2/token",
                }
            )
        )
        env = {
            "GOOGLE_APPLICATION_CREDENTIALS": str(adc),
            "OPTIINFRA_GCP_ENDPOINT": url,
            "OPTIINFRA_GCP_MONITORING_ENDPOINT": f"127.0.0.1:{monitoring}",
            "NO_GCE_CHECK": "True",
        }
        listed = httpx.get(f"{url}/instances", params={"provider": "gcp", "limit": 500}).json()["instances"]
        machines = sorted(i["id"] for i in listed if i["state"] != "terminated")
        advice = _cli("recommend", "--cloud", "gcp://acme-optiinfra-1", "--json", env=env)
        assert advice.returncode == 0, advice.stderr
        found = json.loads(advice.stdout)  # on the cloud's clock (its Date headers), not this machine's
        assert found and {r["instance_id"] for r in found} <= set(machines)
        db = f"sqlite:///{tmp_path / 'gcp.db'}"
        with serving(
            ["serve", "--db", db, "--cloud", "gcp://acme-optiinfra-1", "--no-auth"],
            env=env,
            log=tmp_path / "serve.log",
        ) as (service, _):
            page = httpx.get(f"{service}/api/v1/instances", params={"limit": 200}, timeout=60).json()
            assert sorted(i["id"] for i in page["items"]) == machines and page["total"] == len(machines)
