"""Rules that read what a request names: instance ids, cloud, region, instance type, decision, scope words.

Patterns, not a lookup in the price catalog: loading the catalog costs half a second, and the forms are
regular (AWS `m5.large`, GCP `n1-standard-2`, Azure `Standard_D2s_v3`; AWS `us-east-1`, GCP `us-central1`,
Azure one word from a known list). What the rules cannot read stays empty rather than guessed.
"""

from __future__ import annotations

import re
from typing import Literal

from agents.routing.models import RouteParams
from tools.models import CloudName

# Instance ids as the simulator issues them (AWS also in its older 8-hex form).
_IDS = re.compile(r"\b(?:i-(?:[0-9a-f]{17}|[0-9a-f]{8})|gcp-\d{16}|vm-[0-9a-f]{12})\b", re.IGNORECASE)
_WORKFLOW = re.compile(r"\b(wf-[0-9a-z]{4,})\b", re.IGNORECASE)
_AWS_TYPE = re.compile(
    r"\b([a-z][a-z0-9-]*\d[a-z0-9-]*\.(?:nano|micro|small|medium|large|metal|\d*xlarge))\b", re.I
)
_GCP_TYPE = re.compile(
    r"\b([a-z]\d[a-z]?-(?:standard|highmem|highcpu|megamem|ultramem|highgpu|megagpu|ultragpu|micro|small|"
    r"medium)(?:-\d+[a-z]*)?)\b",
    re.IGNORECASE,
)
_AZURE_TYPE = re.compile(r"\b((?:standard|basic)_[a-z]+\d+(?:-\d+)?[a-z]*(?:_[a-z0-9]+)*)\b", re.IGNORECASE)
_AZURE_PARTS = re.compile(r"^(Standard|Basic)_([a-z]+)(\d+(?:-\d+)?)([a-z]*)(.*)$", re.IGNORECASE)
_AWS_REGION = re.compile(
    r"\b((?:us|eu|ap|sa|ca|me|af|il|mx)-(?:gov-)?(?:north|south|east|west|central|northeast|northwest|"
    r"southeast|southwest)-\d)\b",
    re.IGNORECASE,
)
_GCP_REGION = re.compile(
    r"\b((?:us|europe|asia|australia|northamerica|southamerica|me|africa)-(?:north|south|east|west|central|"
    r"northeast|northwest|southeast|southwest)\d)\b",
    re.IGNORECASE,
)
AZURE_REGIONS = frozenset(
    "eastus eastus2 westus westus2 westus3 centralus northcentralus southcentralus westcentralus "
    "canadacentral canadaeast brazilsouth northeurope westeurope uksouth ukwest francecentral "
    "germanywestcentral "
    "switzerlandnorth norwayeast swedencentral polandcentral italynorth spaincentral eastasia southeastasia "
    "japaneast japanwest koreacentral koreasouth australiaeast australiasoutheast centralindia southindia "
    "westindia uaenorth qatarcentral israelcentral southafricanorth mexicocentral newzealandnorth".split()
)
_PROVIDERS: tuple[tuple[CloudName, re.Pattern[str]], ...] = (
    ("aws", re.compile(r"\b(?:aws|amazon|ec2)\b", re.IGNORECASE)),
    ("gcp", re.compile(r"\b(?:gcp|google|gce|compute engine)\b", re.IGNORECASE)),
    ("azure", re.compile(r"\b(?:azure|microsoft)\b", re.IGNORECASE)),
)
_ENVIRONMENTS: tuple[tuple[Literal["production", "staging", "development"], re.Pattern[str]], ...] = (
    ("production", re.compile(r"\b(?:production|prod)\b", re.IGNORECASE)),
    ("staging", re.compile(r"\b(?:staging|stage)\b", re.IGNORECASE)),
    ("development", re.compile(r"\b(?:development|dev)\b", re.IGNORECASE)),
)
_REJECT = re.compile(
    r"\b(?:reject|rejected|decline|deny|denied|veto|cancel|abort|don'?t|do not|no|nope|stop)\b", re.IGNORECASE
)
_APPROVE = re.compile(
    r"\b(?:approve|approved|accept|yes|yep|ok|okay|lgtm|go ahead|proceed|ship it|do it|confirm|sign off)\b",
    re.IGNORECASE,
)
_TEAM = re.compile(r"\b(?:team\s+([a-z][a-z0-9_-]*)|([a-z][a-z0-9_-]*)\s+team)\b", re.IGNORECASE)
_APPLICATION = re.compile(
    r"\b(?:app|application|service)\s+(?:called|named)\s+([a-z][a-z0-9-]*[a-z0-9])\b"
    r"|\b(?:app|application|service)\s+([a-z0-9]+(?:-[a-z0-9]+)+)\b"
    r"|\b([a-z]+(?:-[a-z]+)*-\d{3,})\b",
    re.IGNORECASE,
)
# Words that follow "team"/"app" in questions but are not names.
_NOT_NAMES = frozenset(
    "the a an my our this that which what whose is are of for in on with to and or it its their all every "
    "each any health healthy latency errors error quality".split()
)


def _provider_of_type(name: str) -> CloudName:
    if "." in name:
        return "aws"
    return "azure" if "_" in name else "gcp"


def _provider_of_id(instance_id: str) -> CloudName:
    if instance_id.startswith("i-"):
        return "aws"
    return "gcp" if instance_id.startswith("gcp-") else "azure"


def _azure_name(text: str) -> str:
    """Azure's spelling: `standard_d2s_v3` → `Standard_D2s_v3` (family upper, features and version lower)."""
    parts = _AZURE_PARTS.match(text)
    if parts is None:
        return text
    tier, family, size, features, rest = parts.groups()
    return f"{tier.capitalize()}_{family.upper()}{size}{features.lower()}{rest.lower()}"


def instance_type_in(text: str) -> str | None:
    if found := _AZURE_TYPE.search(text):
        return _azure_name(found.group(1))
    for pattern in (_AWS_TYPE, _GCP_TYPE):
        if found := pattern.search(text):
            return found.group(1).lower()
    return None


def region_in(text: str) -> tuple[str, CloudName] | None:
    for pattern, provider in ((_AWS_REGION, "aws"), (_GCP_REGION, "gcp")):
        if found := pattern.search(text):
            return found.group(1).lower(), provider  # type: ignore[return-value]
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if word in AZURE_REGIONS:
            return word, "azure"
    return None


def decision_in(text: str) -> Literal["approve", "reject"] | None:
    """Reject wins a tie: "no, don't approve it" must never read as approval."""
    if _REJECT.search(text):
        return "reject"
    return "approve" if _APPROVE.search(text) else None


def _name(pattern: re.Pattern[str], text: str) -> str | None:
    for found in pattern.finditer(text):
        name = next((g for g in found.groups() if g), None)
        if name and name.lower() not in _NOT_NAMES:
            return name.lower()
    return None


def extract_params(text: str) -> RouteParams:
    ids = list(dict.fromkeys(m.lower() for m in _IDS.findall(text)))
    workflow = _WORKFLOW.search(text)
    # Ids out of the way, so `gcp-0000…` names no cloud and `wf-…` no application.
    text = _WORKFLOW.sub(" ", _IDS.sub(" ", text))
    instance_type = instance_type_in(text)
    region = region_in(text)
    provider: CloudName | None = next((p for p, pattern in _PROVIDERS if pattern.search(text)), None)
    # The cloud is also implied by what the request names, when it names nothing else.
    implied: set[CloudName] = {_provider_of_type(instance_type)} if instance_type else set()
    implied |= {region[1]} if region else set()
    implied |= {_provider_of_id(i) for i in ids}
    if provider is None and len(implied) == 1:
        provider = implied.pop()
    return RouteParams(
        instance_ids=ids,
        provider=provider,
        region=region[0] if region else None,
        instance_type=instance_type,
        decision=decision_in(text),
        environment=next((e for e, pattern in _ENVIRONMENTS if pattern.search(text)), None),
        team=_name(_TEAM, text),
        application=_name(_APPLICATION, text),
        workflow_id=workflow.group(1).lower() if workflow else None,
    )
