"""Rules that read what a request names: instance ids, cloud, region, instance type, decision, scope words.

Patterns, not a lookup in the price catalog: loading the catalog costs half a second, and the forms are
regular (AWS `m5.large`, GCP `n1-standard-2`, Azure `Standard_D2s_v3`; AWS `us-east-1`, GCP `us-central1`,
Azure one word from a known list). What the rules cannot read stays empty rather than guessed.
"""

from __future__ import annotations

import re
from typing import Literal

from agents.routing.models import Period, RouteParams
from tools.models import CloudName

# Ids as the simulator issues them (AWS also in its older 8-hex form), and anything written in their shape
# ("i-doesnotexist"): read as an id, so that a wrong one is named and refused rather than ignored.
_IDS = re.compile(
    r"\b(?:i-(?:[0-9a-f]{17}|[0-9a-f]{8})|gcp-\d{16}|vm-[0-9a-f]{12}|(?:i|gcp|vm)-[0-9a-z]{6,})\b",
    re.IGNORECASE,
)
_WORKFLOW = re.compile(r"\b(wf-[0-9a-z]{4,})\b", re.IGNORECASE)
_AWS_TYPE = re.compile(
    r"\b([a-z][a-z0-9-]*\d[a-z0-9-]*\.(?:nano|micro|small|medium|large|metal|\d*xlarge))\b", re.I
)
# Written like an AWS type but no size AWS sells ("m99.huge"): read, so that it is named and refused.
_TYPE_SHAPED = re.compile(r"\b([a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z]{3,}\d*)\b", re.IGNORECASE)
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
# "the data team" is the usual order and is read first; "team payments" when no word before "team" is a name.
_TEAMS = (
    re.compile(r"\b([a-z][a-z0-9_-]*)\s+team\b", re.IGNORECASE),
    re.compile(r"\bteam\s+([a-z][a-z0-9_-]*)\b", re.IGNORECASE),
)
_APPLICATION = re.compile(
    r"\b(?:app|application|service)\s+(?:called|named)\s+([a-z][a-z0-9-]*[a-z0-9])\b"
    r"|\b(?:app|application|service)\s+([a-z0-9]+(?:-[a-z0-9]+)+)\b"
    r"|\b([a-z]+(?:-[a-z]+)*-\d{3,})\b",
    re.IGNORECASE,
)
# Words that follow "team"/"app" in questions but are not names ("our bill by team" names no team "by").
_NOT_NAMES = frozenset(
    "the a an my our this that which what whose is are of for in on with to and or it its their all every "
    "each any health healthy latency errors error quality by per across each other whole most least "
    "spend spends spending cost costs do does did has have had was were will would can could should much "
    "many how who whose run runs running costing over spent".split()
)
_TAG = re.compile(r"\btag(?:ged)?\s+(?:with\s+)?([a-z][\w.:/-]*)\s*[=:]\s*([\w.:/-]+)", re.IGNORECASE)
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "a couple of": 2, "couple of": 2, "three": 3, "four": 4,
            "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
            "fourteen": 14, "thirty": 30, "sixty": 60, "ninety": 90}  # fmt: skip
_COUNT = r"(\d{1,3}|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + ")"
_ROLLING = re.compile(
    rf"\b(?:last|past|previous|over the last|in the last|for the last)\s+{_COUNT}\s+(day|week|month)s?\b",
    re.IGNORECASE,
)
_CALENDAR = re.compile(r"\b(this|last|previous|past)\s+(week|month)\b", re.IGNORECASE)
_TO_DATE = re.compile(r"\b(?:month[- ]to[- ]date|mtd|so far this month|since the (?:1st|first))\b", re.I)
_DAY = re.compile(r"\b(yesterday|today)\b", re.IGNORECASE)
MONTHS = ("january february march april may june july august september october november "
          "december").split()  # fmt: skip
# "in May", "for march", "during June", "May's bill"; "may" alone is a verb far too often to be a month.
_MONTH = re.compile(
    r"\b(?:in|for|during|of|over)\s+("
    + "|".join(MONTHS)
    + r")\b|\b("
    + "|".join(MONTHS)
    + r")(?:'s|\s+(?:bill|spend|costs?))\b",
    re.IGNORECASE,
)
_UPSIZE = re.compile(
    r"\b(?:upsiz\w*|up-?siz\w*|scale\s+(?:\w+\s+)?up|size\s+(?:\w+\s+)?up|bigger|larger|more "
    r"(?:cpu|memory|capacity|headroom)|under-?provisioned|overloaded|starved)\b",
    re.IGNORECASE,
)
_DOWNSIZE = re.compile(
    r"\b(?:downsiz\w*|down-?siz\w*|scale\s+(?:\w+\s+)?down|shrink\w*|smaller|over-?provisioned|"
    r"under-?utili[sz]ed|oversized)\b",
    re.IGNORECASE,
)


def period_in(text: str) -> Period | None:
    """The time window a request names, if any (the first that it names)."""
    if found := _ROLLING.search(text):
        count = found.group(1).lower()
        unit = found.group(2).lower()
        return Period(unit=unit, count=int(count) if count.isdigit() else _NUMBERS[count])
    if _TO_DATE.search(text):
        return Period(unit="month", calendar="this")
    if found := _CALENDAR.search(text):
        which = "this" if found.group(1).lower() == "this" else "last"
        return Period(unit=found.group(2).lower(), calendar=which)
    if found := _DAY.search(text):
        return Period(unit="day", calendar="this" if found.group(1).lower() == "today" else "last")
    if found := _MONTH.search(text):
        name = (found.group(1) or found.group(2)).lower()
        return Period(unit="month", month=MONTHS.index(name) + 1)
    return None


def resize_direction(text: str) -> Literal["up", "down"] | None:
    if _UPSIZE.search(text):
        return "up"
    return "down" if _DOWNSIZE.search(text) else None


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
    for pattern in (_AWS_TYPE, _GCP_TYPE, _TYPE_SHAPED):
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
        team=next((name for pattern in _TEAMS if (name := _name(pattern, text))), None),
        application=_name(_APPLICATION, text),
        tags={k: v for k, v in _TAG.findall(text)},
        period=period_in(text),
        resize=resize_direction(text),
        workflow_id=workflow.group(1).lower() if workflow else None,
    )
