"""Opening the cloud an address names (api.cloud_address): the simulator in this process, a simulator
server, or AWS — its credentials and regions checked before any work starts, so a missing profile or key is
one line naming what is missing, not a failure halfway through a rollout."""

from __future__ import annotations

from api.cloud_address import CloudAddress, CloudAddressError
from tools.provider import CloudProvider
from tools.resilience import ResilientProvider


class CloudUnavailableError(RuntimeError):
    """The address is well formed but its cloud cannot be used from here (credentials, an adapter to come)."""


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
    raise CloudUnavailableError(
        f"{found.kind}:// clouds are not supported yet: OptiInfra has no {found.kind.upper()} adapter so far "
        "(see the README's Cloud providers); use sim, a simulator server or aws://"
    )


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


__all__ = ["CloudAddressError", "CloudUnavailableError", "open_cloud", "remote_cloud", "shared_address"]
