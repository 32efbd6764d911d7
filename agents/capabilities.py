"""What the assistant cannot do, said plainly: a request beyond its tools gets a short "I can't", naming the
nearest thing it can do, instead of an answer to some other question.

Each limit is a pattern over the request. Orders are read as a verb the assistant has no tool for (stop,
set, export, buy …) followed by what it would act on; topics it has no data for (budgets, anomalies, storage)
are refused however they are asked. A question about a supported topic never matches: "which machines are
idle?" is answered, "stop the idle machines" is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    name: str
    pattern: re.Pattern[str]
    cannot: str  # what it cannot do, completing "I can't …"
    nearest: str  # the nearest thing it can, completing "The nearest I can do: …"


# "the idle machines", "all staging instances", "i-0abc…", "them": what an order acts on.
_OBJECT = (
    r"(?:the|all|our|my|every|those|these|them|any|idle|unused|stopped|running|\w+ing|i-[0-9a-f]+|gcp-\d+"
    r"|vm-[0-9a-f]+|instances?|machines?|vms?|servers?|boxes|nodes?|reservations?|savings plans?)"
)
_ORDER_START = r"^\W*(?:please\s+|(?:can|could|would|will) you\s+|i want (?:you )?to\s+|go\s+(?:and\s+)?)?"
# "stop the migration", "start a rightsizing" are about rollouts, which the assistant does run.
_NOT_ROLLOUTS = (
    r"(?!.*\b(?:rollouts?|migrat\w*|workflows?|right-?siz\w*|downsiz\w*|(?<!savings )plans?|waves?|changes?"
    r"|spot)\b)"
)


def _order(verbs: str) -> re.Pattern[str]:
    return re.compile(
        rf"{_ORDER_START}{_NOT_ROLLOUTS}(?:{verbs})\s+(?:[\w.-]+\s+){{0,3}}?{_OBJECT}\b", re.IGNORECASE
    )


LIMITS: tuple[Limit, ...] = (
    Limit(
        "budgets",
        re.compile(
            rf"{_ORDER_START}(?:set|create|add|make|define|establish|put|change|update|delete|remove)\b.*"
            r"\bbudgets?\b",
            re.IGNORECASE,
        ),
        "change or delete budgets from chat",
        "`optiinfra budget delete NAME` (or DELETE /api/v1/budgets/NAME, an operator's), then set it anew "
        'here ("set a budget of 20,000 a month for the ml team, alert me at 80 %"); "are we on budget?" says '
        "how each stands",
    ),
    Limit(
        "exports",
        re.compile(r"\b(?:export|download|csv|pdf|excel|spreadsheet|e-?mail (?:me|it|a))\b", re.IGNORECASE),
        "export files or send reports",
        "the same figures as JSON: GET /api/v1/costs, GET /api/v1/recommendations, or `optiinfra recommend "
        "--json`",
    ),
    Limit(
        "alerts",
        re.compile(r"\b(?:alerts?|notif\w*|slack|pager\w*|webhooks?|remind me)\b", re.IGNORECASE),
        "set up alerts or notifications from chat (a channel's URL or password is a secret, not a chat "
        "message)",
        "an operator adds a channel with `optiinfra notify add NAME --slack URL --event rollout_completed "
        "--event anomaly_opened` (or --webhook, --email; POST /api/v1/notifications), and rollouts, budgets "
        "and cost anomalies reach it",
    ),
    Limit(
        "storage",
        re.compile(
            r"\b(?:(?<![=\w-])databases? (?:costs?|spend)|rds|load balancers?)\b",
            re.IGNORECASE,
        ),  # fmt: skip
        "look at managed databases or load balancers: I see machines, their volumes and snapshots, public "
        "addresses and object storage buckets",
        'spend by service ("spend by service last 30 days"), or the volumes, snapshots, addresses and '
        'buckets that cost more than they need ("which disks are unattached?", "which buckets should move '
        'to a colder class?")',
    ),
    Limit(
        "power",
        _order(
            r"stop|start|terminate|shut\s*down|turn\s+off|turn\s+on|power\s+(?:off|on)|kill|delete|remove"
            r"|destroy|reboot|restart|decommission|clean\s+up"
        ),  # fmt: skip
        "stop, start, reboot or terminate machines one by one from chat: the changes I carry out are spot "
        "migrations, rightsizing, upsizing, idle stops and the storage cleanups (unattached volumes, old "
        "snapshots, idle addresses, gp2 to gp3), each reviewed and rolled out in waves",
        'the list with what each would save ("which machines are idle?"), or "stop the idle machines", '
        "which plans an idle stop that you approve before anything changes",
    ),
    Limit(
        "purchases",
        _order(r"buy|purchase|reserve|commit\s+to"),
        "buy reservations or savings plans",
        'the reservations worth buying and what each saves ("which instances should be reserved?")',
    ),
    Limit(
        "schedules",
        re.compile(
            r"\b(?:schedule|at night|overnight|on weekends|off-?hours|after hours|every (?:night|evening|"
            r"weekend))\b",
            re.IGNORECASE,
        ),  # fmt: skip
        "schedule other changes for a set time (a resize or a migration tonight): the schedules I keep are "
        "off-hours stops",
        'the machines idle while their team is away ("which dev machines are idle at night?"), or "stop the '
        'dev machines at night", which plans off-hours schedules you approve',
    ),
    Limit(
        "provisioning",
        _order(r"launch|create|provision|spin\s+up|tag|label|rename|scale\s+out"),
        "launch, tag or rename machines",
        'the inventory and its tags ("how many instances does team ml run?")',
    ),
)


@dataclass(frozen=True)
class Refusal:
    limit: str
    text: str


def beyond_reach(text: str, allowed: frozenset[str] = frozenset()) -> Refusal | None:
    """The refusal for a request outside what the tools do, or None when they can serve it; limits named in
    `allowed` are passed over (an order the caller has a rollout for)."""
    for limit in LIMITS:
        if limit.name not in allowed and limit.pattern.search(text):
            return Refusal(limit.name, f"I can't {limit.cannot}. The nearest I can do: {limit.nearest}.")
    return None
