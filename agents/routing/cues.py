"""Words that settle what an embedding blurs: whether a request asks to *do* something, to *decide*, or
how a change *went*.

Sentence embeddings place "migrate them to spot", "is the spot migration finished?" and "reject the spot
migration" close together: they share their topic. What tells them apart is grammar, a verb at the start
or a question about progress, which a few patterns read reliably. Each cue adds to (or takes from) its
route's score; the embedding still decides among the rest.
"""

from __future__ import annotations

import re

from agents.routing.models import RouteName


def _any(*phrases: str) -> str:
    return "(?:" + "|".join(phrases) + ")"


# "do we …" asks; "do the spot migration" orders.
_QUESTION = (
    _any(
        "what",
        "which",
        "how",
        "is",
        "are",
        "was",
        "were",
        "can",
        "could",
        "would",
        "should",
        "will",
        "any",
        "where",
        "why",
        "when",
        r"(?:do|does|did)\s+(?:we|i|you|they|it|our|any|all|the\s+\w+\s+have)",
    )
    + r"\b"
)
# "can you …", "could you …" are requests, not questions.
_ASKS = rf"^\W*(?!(?:can|could|would) you){_QUESTION}|\?\s*$"
_DECISION_FIRST = _any(
    r"(?:i\s+)?approve[sd]?",
    "reject(?:ed)?",
    "decline",
    "deny",
    "veto",
    "cancel",
    "abort",
    "confirm",
    "lgtm",
    "ship it",
    "go ahead",
    "proceed",
    "yes",
    "yep",
    "sure",
    "ok(?:ay)?",
    "no",
    "nope",
    "don'?t",
    "do not",
    r"i don'?t approve",
)
_PROGRESS = _any(
    "status",
    "progress",
    "finished",
    "complete[d]?",
    "done",
    "how far",
    "stand",
    "waves?",
    r"roll(?:ed)? back",
    "the report",
    "(?:rollout|migration|rightsizing|final) report",
    "results? of",
    "what came of",
    "what happened",
    "how did .* go",
    "still running",
    "did it (?:work|finish)",
    "did the change",
    "in the end",
    "actually save",
    "workflows?",
    r"pending (?:approval|workflows?|rollouts?|changes?)",
    "what(?:'s| is) pending",
    "waiting for approval",
)
_CHANGE = _any("migrat\\w*", "move", "switch", "put", "convert", "roll", "get")
_RESIZE = _any(
    "resiz\\w*",
    "downsiz\\w*",
    "right-?siz\\w*",
    "shrink",
    "scale down",
    "make .* smaller",
    "reduce the size",
    "change i-",
)

# Money words: "what did GCP set us back" is about the bill, however little else it shares with the examples.
_MONEY = _any(
    "spend",
    "spent",
    "spending",
    "set us back",
    "pay",
    "paid",
    "paying",
    "bill",
    "billed",
    "burn",
    "invoice",
    "cost us",
    "costing us",
    "how much (?:did|does|do|is|are|was|were) .* cost",
)

# Sizing words belong to the performance agent, whatever instances they are said of.
_SIZING = _any(
    "over-?provisioned",
    "under-?provisioned",
    r"under-?utili[sz]ed",
    "over-?sized",
    "overloaded",
    "running hot",
    "spare capacity",
    "headroom",
    "how loaded",
    "hottest",
)

# Anomalies of the bill (not of utilisation or latency, which are the performance agent's).
_ANOMALY = _any(
    r"(?:cost|spend|spending|billing|bill)\s+anomal\w*",
    r"anomal\w* (?:in|on|of) (?:our |the )?(?:\w+ )?"
    r"(?:costs?|spend|bill)",
    r"(?:cost|spend|billing|bill|charges?)\s+(?:spikes?|jumps?)",
    r"unusual (?:spend\w*|costs?|charges?)",
    r"unexpected (?:spend\w*|costs?|charges?)",
)

CUES: tuple[tuple[RouteName, float, re.Pattern[str]], ...] = (
    ("cost", 0.08, re.compile(rf"\b{_MONEY}\b", re.I)),
    ("cost", 0.12, re.compile(rf"\b{_ANOMALY}", re.I)),
    ("performance", 0.08, re.compile(rf"\b{_SIZING}\b", re.I)),
    ("approval", 0.25, re.compile(rf"^\W*{_DECISION_FIRST}\b", re.I)),
    ("approval", 0.15, re.compile(r"\b(?:approve|reject|go ahead with|sign off)\b", re.I)),
    ("status", 0.25, re.compile(rf"\b{_PROGRESS}\b", re.I)),
    # A question is not an order: "will the api cope on a smaller size?" asks about a change.
    ("spot_migration", -0.1, re.compile(_ASKS, re.I)),
    ("rightsizing", -0.1, re.compile(_ASKS, re.I)),
    (
        "spot_migration",
        0.12,
        re.compile(rf"^(?!\W*{_QUESTION}).*\b{_CHANGE}\b.*\b(?:spot|preemptible|low[- ]priority)\b", re.I),
    ),
    ("rightsizing", 0.12, re.compile(rf"^(?!\W*{_QUESTION}).*\b{_RESIZE}", re.I)),
)


# "estimate the savings of rightsizing", "show me what could go to spot": asking to be told, not to change.
_INFORM = (
    r"^\W*(?:please\s+)?(?:estimate|show|list|find|tell|give|calculate|compute|report|check|count|explain"
    r"|describe|compare|summari[sz]e|display|identify|get me|let me know)\b"
)
_ASKING = re.compile(rf"{_ASKS}|{_INFORM}", re.I)


def asks(text: str) -> bool:
    """Whether the request asks to be told ("which could go to spot?", "estimate the savings of rightsizing")
    rather than for a change ("move them to spot")."""
    return _ASKING.search(text) is not None


# How an order may open before its verb: "please …", "could you …", "go and …".
_ORDER_OPENING = r"^\W*(?:please\s+|(?:can|could|would) you\s+|go\s+(?:and\s+)?)?"
# "stop the idle machines", "shut down unused dev vms": the idle-stop rollout, not a power switch.
_STOPS_IDLE = re.compile(
    rf"{_ORDER_OPENING}(?!\W*{_QUESTION})"
    r"(?:stop|shut\s*down|turn\s+off|power\s+off|park)\s+(?:[\w.=-]+\s+){0,4}?(?:idle|unused)\b",
    re.I,
)


# "delete the unattached volumes", "release the idle elastic IPs", "move the gp2 volumes to gp3": the storage
# rollouts (each reviewed, a person approving every deletion), not a power switch.
_ORDERS_STORAGE = tuple(
    (kind, re.compile(rf"{_ORDER_OPENING}(?!\W*{_QUESTION}){pattern}", re.I))
    for kind, pattern in (
        (
            "volume_cleanup",
            r"(?:delete|remove|clean\s+up|get\s+rid\s+of)\s+(?:[\w.=-]+\s+){0,4}?"
            r"(?:unattached|orphan\w*|detached|unused)\s+(?:[\w.-]+\s+)?(?:volumes?|disks?)\b",
        ),
        (
            "snapshot_cleanup",
            r"(?:delete|remove|clean\s+up|prune|get\s+rid\s+of)\s+(?:[\w.=-]+\s+){0,4}?"
            r"(?:old|stale|obsolete|expired)\s+(?:[\w.-]+\s+)?(?:snapshots?|backups?)\b",
        ),
        (
            "address_release",
            r"(?:release|free|delete|remove|give\s+back)\s+(?:[\w.=-]+\s+){0,4}?"
            r"(?:idle|unused|unattached|unassociated)\s+(?:elastic\s+|public\s+)?"
            r"(?:ips?|ip\s+addresse?s?|addresse?s?|eips?)\b",
        ),
        (
            "bucket_tier_move",
            r"(?:move|switch|change|transition|tier|archive)\s+(?:[\w.=-]+\s+){0,4}?buckets?\b",
        ),
        (
            "volume_retype",
            r"(?:move|convert|migrate|switch|change|upgrade)\s+(?:[\w.=-]+\s+){0,4}?gp2\b.*\bgp3\b",
        ),
    )
)


def orders_storage_change(text: str) -> str | None:
    """The storage rollout kind a request orders ("delete the unattached volumes"), or None."""
    return next((kind for kind, pattern in _ORDERS_STORAGE if pattern.search(text)), None)


# "at night", "over the weekend", "after hours": when an off-hours schedule stops a machine.
_OFF_HOURS = re.compile(
    r"\b(?:at\s+night|overnight|nights|nightly|every\s+(?:night|evening|weekend)"
    r"|(?:at|on|over|during)\s+(?:the\s+)?weekends?|weekends?\s+off"
    r"|after[-\s]hours|off[-\s]?hours|outside\s+(?:of\s+)?(?:office|working|business|work)\s+hours"
    r"|in\s+the\s+evenings?)\b",
    re.I,
)
# "stop the dev machines at night", "put staging on an off-hours schedule": the off-hours rollout.
_ORDERS_OFF_HOURS = re.compile(
    rf"{_ORDER_OPENING}(?!\W*{_QUESTION})"
    r"(?:stop|shut\s*down|turn\s+off|power\s+off|park|schedule|put|set\s+up|apply|add|switch\s+off)\b",
    re.I,
)


# What a question about those hours asks after: machines idle or stopped then ("which are idle at night?").
_OFF_HOURS_SUBJECT = re.compile(
    r"\b(?:idle|unused|stop\w*|shut\w*|turn\w*\s+off|switch\w*\s+off|off|running|run|used|busy|schedul\w*)\b",
    re.I,
)


def about_off_hours(text: str) -> bool:
    """Whether the request is about the hours a team is away ("… at night", "… at weekends")."""
    return _OFF_HOURS.search(text) is not None


def asks_off_hours(text: str) -> bool:
    """Whether the request asks which machines are idle, or could be stopped, while their team is away."""
    return about_off_hours(text) and asks(text) and _OFF_HOURS_SUBJECT.search(text) is not None


def orders_off_hours(text: str) -> bool:
    """Whether the request orders machines stopped while their team is away ("stop the dev machines at
    night"): an off-hours schedule, planned and approved like every rollout."""
    return about_off_hours(text) and _ORDERS_OFF_HOURS.search(text) is not None


def stops_idle(text: str) -> bool:
    """Whether the request orders the idle machines stopped ("stop the idle staging machines")."""
    return _STOPS_IDLE.search(text) is not None


# "upsize the overloaded machines", "give the api bigger types": an order to resize, whichever specialist
# the sizing words sent it to.
_ORDERS_RESIZE = re.compile(
    rf"{_ORDER_OPENING}(?:up-?siz\w*|size\s+up|scale\s+up"
    r"|resiz\w*|right-?siz\w*|give|move|make|put|switch|bump|grow|enlarge)\b",
    re.I,
)


def orders_resize(text: str) -> bool:
    """Whether the request opens with an order to resize ("upsize the overloaded machines")."""
    return _ORDERS_RESIZE.search(text) is not None


def cue_bonus(text: str) -> dict[RouteName, float]:
    bonus: dict[RouteName, float] = {}
    for route, weight, pattern in CUES:
        if pattern.search(text):
            bonus[route] = bonus.get(route, 0.0) + weight
    return bonus
