"""Opening the cloud an address names (api.cloud_address): the simulator in this process, a simulator
server, AWS, Azure or GCP — credentials (and AWS's regions) checked before any work starts, so a missing
profile, key or sign-in is one line naming what is missing, not a failure halfway through a rollout."""

from __future__ import annotations

from api.cloud_address import CloudAddress, CloudAddressError
from tools.provider import CloudProvider
from tools.resilience import ResilientProvider


class CloudUnavailableError(RuntimeError):
    """The address is well formed but its cloud cannot be used from here (its credentials)."""


def open_cloud(address: str | CloudAddress | None, seed: int, size: int) -> CloudProvider:
    """The cloud `address` names (`sim`, the default, is a seeded simulator in this process)."""
    found = address if isinstance(address, CloudAddress) else CloudAddress.parse(address or "sim")
    if found.kind == "sim":
        from mock_cloud import CloudSimulator
        from tools.adapters.simulator import resilient_simulator

        return resilient_simulator(CloudSimulator(seed, size))
    if found.kind == "http":
        assert found.url is not None
        return remote_cloud(found.url)
    if found.kind == "aws":
        return ResilientProvider(_aws(found))
    if found.kind == "azure":
        return ResilientProvider(_azure(found))
    return ResilientProvider(_gcp(found))


def remote_cloud(url: str) -> ResilientProvider:
    """A simulator server (or any cloud speaking its API), retried on throttling and outages."""
    from tools.adapters.http import SimulatorHttpProvider

    return ResilientProvider(SimulatorHttpProvider(url))


def shared_address(address: str | None) -> str | None:
    """The address another process reaches the same cloud at (None for the in-process simulator)."""
    return address if address and CloudAddress.parse(address).shared else None


def _aws(address: CloudAddress) -> CloudProvider:
    import boto3
    from botocore.exceptions import BotoCoreError, ProfileNotFound

    from tools.adapters.aws import AwsProvider

    try:
        session = boto3.Session(profile_name=address.profile)
    except ProfileNotFound as exc:  # the address's profile, or AWS_PROFILE's
        named = exc.kwargs.get("profile", address.profile)
        raise CloudUnavailableError(f"no AWS profile named '{named}' (see ~/.aws/config)") from None
    try:
        credentials = session.get_credentials()
    except BotoCoreError as exc:  # e.g. a profile whose credential process fails
        raise CloudUnavailableError(f"AWS credentials could not be read: {exc}") from None
    if credentials is None:
        raise CloudUnavailableError(
            "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, name a profile "
            "(aws://PROFILE@REGION), or run where an instance role applies"
        )
    known = {
        r for partition in ("aws", "aws-us-gov") for r in session.get_available_regions("ec2", partition)
    }
    unknown = [r for r in address.regions if r not in known]
    if unknown:
        raise CloudUnavailableError(f"no AWS region named {', '.join(unknown)}")
    return AwsProvider(address.regions, session=session)


def _azure(address: CloudAddress) -> CloudProvider:
    """The Azure adapter with DefaultAzureCredential, whose token is fetched now: no credential is one line.
    `OPTIINFRA_AZURE_ENDPOINT` points it at another Resource Manager (a sovereign cloud, or the simulator)."""
    import logging
    import os

    from azure.core.exceptions import AzureError
    from azure.identity import DefaultAzureCredential

    from tools.adapters.azure import RESOURCE_MANAGER, AzureProvider

    assert address.subscription is not None
    credential = DefaultAzureCredential()
    # The chain logs each credential it tried at WARNING; the one line below says what matters.
    logging.getLogger("azure.identity").setLevel(logging.ERROR)
    try:
        credential.get_token(f"{RESOURCE_MANAGER}/.default")
    except AzureError as exc:
        said = str(exc)
        if "failed to retrieve a token from the included credentials" in said and "unavailable" in said:
            raise CloudUnavailableError(
                "no Azure credentials found: set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, "
                "sign in with `az login`, or run where a managed identity applies"
            ) from None
        raise CloudUnavailableError(f"Azure refused the credentials: {said.splitlines()[0]}") from None
    endpoint = os.environ.get("OPTIINFRA_AZURE_ENDPOINT", RESOURCE_MANAGER).rstrip("/")
    return AzureProvider(
        address.subscription, address.resource_group, credential=credential, base_url=endpoint
    )


def _gcp(address: CloudAddress) -> CloudProvider:
    """The GCP adapter with Application Default Credentials, refreshed now: no credential is one line.
    `OPTIINFRA_GCP_ENDPOINT` points Compute Engine's client elsewhere, `OPTIINFRA_GCP_MONITORING_ENDPOINT`
    (HOST:PORT, plaintext gRPC) Cloud Monitoring's: both for a local stand-in such as the simulator."""
    import os

    import google.auth
    from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError
    from google.auth.transport.requests import Request

    from tools.adapters.gcp import COMPUTE, GcpProvider

    assert address.project is not None
    try:
        credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
        credentials.refresh(Request())
    except DefaultCredentialsError:
        raise CloudUnavailableError(
            "no GCP credentials found: set GOOGLE_APPLICATION_CREDENTIALS, run `gcloud auth "
            "application-default login`, or run where a service account applies"
        ) from None
    except GoogleAuthError as exc:
        raise CloudUnavailableError(f"GCP refused the credentials: {str(exc).splitlines()[0]}") from None
    return GcpProvider(
        address.project,
        address.zones,
        credentials=credentials,
        endpoint=os.environ.get("OPTIINFRA_GCP_ENDPOINT", COMPUTE).rstrip("/"),
        monitoring_endpoint=os.environ.get("OPTIINFRA_GCP_MONITORING_ENDPOINT") or None,
    )


__all__ = ["CloudAddressError", "CloudUnavailableError", "open_cloud", "remote_cloud", "shared_address"]
