"""One cloud address for every way in: `--cloud` (or `OPTIINFRA_CLOUD`) on every command and the service.

- `sim`: the built-in simulator in this process, from `--seed` and `--size` (the default);
- `http://HOST:PORT`: a simulator server (`optiinfra cloud serve`), or anything speaking its API;
- `aws://[PROFILE@]REGION[,REGION…]`: AWS through boto3's credential chain (a named profile, or the
  environment, ~/.aws, an instance role);
- `azure://SUBSCRIPTION[/RESOURCE-GROUP]`: Azure through azure-identity's DefaultAzureCredential;
- `gcp://PROJECT[/ZONE,…]`: GCP through Application Default Credentials.

Reading an address loads nothing (the command line's options are parsed before any machinery is imported);
`api.clouds.open_cloud` opens it, checking its credentials before any work starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import urlsplit

import typer

Kind = Literal["sim", "http", "aws", "azure", "gcp"]
FORMS = (
    "sim, http://HOST:PORT, aws://[PROFILE@]REGION[,REGION…], azure://SUBSCRIPTION[/RESOURCE-GROUP] or "
    "gcp://PROJECT[/ZONE,…]"
)
# For --help, which is rich markup: its square brackets escaped, or "[/RESOURCE-GROUP]" is a closing tag.
HELP_FORMS = FORMS.replace("[", "\\[")
_AWS_REGION = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-\d$")
_PROFILE = re.compile(r"^[A-Za-z0-9_.+=,@-]{1,64}$")
_SUBSCRIPTION = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RESOURCE_GROUP = re.compile(r"^[\w().-]{1,90}$")
_GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_GCP_ZONE = re.compile(r"^[a-z]+-[a-z]+\d+-[a-z]$")


class CloudAddressError(ValueError):
    """An address that names no cloud the way it should; the message says what was expected."""


@dataclass(frozen=True)
class CloudAddress:
    kind: Kind
    text: str  # as given: what a workflow remembers, so a resume finds the same cloud
    url: str | None = None
    profile: str | None = None
    regions: tuple[str, ...] = ()
    subscription: str | None = None
    resource_group: str | None = None
    project: str | None = None
    zones: tuple[str, ...] = ()

    @property
    def shared(self) -> bool:
        """Whether another process reaches the same cloud (all but the in-process simulator)."""
        return self.kind != "sim"

    @classmethod
    def parse(cls, text: str) -> CloudAddress:
        given = text.strip()
        scheme, sep, rest = given.partition("://")
        if given == "sim":
            return cls("sim", given)
        if not sep:
            raise CloudAddressError(f"'{given[:80]}' is not a cloud address: expected {FORMS}")
        if scheme in ("http", "https"):
            parts = urlsplit(given)
            if not parts.hostname:
                raise CloudAddressError(f"'{given[:80]}' has no host: expected http://HOST:PORT")
            return cls("http", given, url=given.rstrip("/"))
        if scheme == "aws":
            profile, at, where = rest.rpartition("@")
            regions = tuple(r.strip() for r in where.split(",") if r.strip())
            if at and not _PROFILE.match(profile):
                raise CloudAddressError(f"'{profile[:64]}' is not an AWS profile name")
            bad = [r for r in regions if not _AWS_REGION.match(r)]
            if not regions or bad:
                shown = f"'{bad[0][:40]}' is not an AWS region" if bad else "no region"
                raise CloudAddressError(
                    f"{shown}: expected aws://[PROFILE@]REGION[,REGION…], e.g. aws://us-east-1"
                )
            return cls("aws", given, profile=profile or None, regions=regions)
        if scheme == "azure":
            subscription, _, group = rest.partition("/")
            if not _SUBSCRIPTION.match(subscription):
                raise CloudAddressError(
                    f"'{subscription[:60]}' is not an Azure subscription id (a GUID): "
                    "expected azure://SUBSCRIPTION[/RESOURCE-GROUP]"
                )
            if group and not _RESOURCE_GROUP.match(group):
                raise CloudAddressError(f"'{group[:90]}' is not an Azure resource group name")
            return cls("azure", given, subscription=subscription, resource_group=group or None)
        if scheme == "gcp":
            project, _, zones_text = rest.partition("/")
            zones = tuple(z.strip() for z in zones_text.split(",") if z.strip())
            if not _GCP_PROJECT.match(project):
                raise CloudAddressError(
                    f"'{project[:40]}' is not a GCP project id: expected gcp://PROJECT[/ZONE,…]"
                )
            bad = [z for z in zones if not _GCP_ZONE.match(z)]
            if bad:
                raise CloudAddressError(f"'{bad[0][:40]}' is not a GCP zone (e.g. us-central1-a)")
            return cls("gcp", given, project=project, zones=zones)
        raise CloudAddressError(f"unknown cloud '{scheme[:20]}://': expected {FORMS}")


def checked(value: str | None) -> str | None:
    """A `--cloud` option's callback: the address as given, or a usage error saying what is wrong."""
    if value is None:
        return None
    try:
        CloudAddress.parse(value)
    except CloudAddressError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cloud") from None
    return value.strip()


CloudOption = Annotated[
    str | None,
    typer.Option(
        "--cloud", envvar="OPTIINFRA_CLOUD", callback=checked,
        help=f"Which cloud: {HELP_FORMS} (default sim, from --seed and --size)",
    ),
]  # fmt: skip
