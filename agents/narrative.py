"""The narrative of an answer: the specialist's template, or a model's rewording of it that says what the
template says and nothing the findings do not hold.

A model is handed the question, the templated answer and its facts, and asked for a short reply. Its text
is kept only if
- every number in it is one of the facts' (or the template's, or the question's) to the precision it is
  written with: "1,486 USD" or "1.5k" for 1485.55 pass, "1.4k" or a number made up does not;
- it states the answer's key figure (a reply with no numbers, or about something else, says nothing);
- it names the scope the answer is for ("GCP", "last 7 days"), so the figure cannot be read as another's;
- it does not echo the prompt (the facts block, its field names), is not cut off mid-sentence, and is not
  padded far beyond the template (a one-line figure grown into a paragraph of claims nobody checked).
An invalid, empty, late or failing reply leaves the template, which is all of this by construction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from agents.answers.base import Fact
from agents.llm import ModelUnavailableError, ask

log = logging.getLogger(__name__)

# A number standing alone (not part of an id, a type like m5.large, a region like us-east-1 or a name like
# P95), with the letters written right after it: a unit ("8GB", "120ms") or a scale ("1.5k", "2M").
_NUMBER = re.compile(r"(?<![\w.\-/])[-+]?(\d[\d,]*(?:\.\d+)?)([A-Za-z]*)(?![\w\-])")
_SCALES = {"k": 1e3, "K": 1e3, "M": 1e6, "bn": 1e9, "B": 1e9}
MIN_ROOM = 160  # characters a narrative may always take, however short the template
INSTRUCTIONS = """You are an operations assistant for cloud costs. Rewrite the findings below as a short,
plain answer to the user's question (at most 5 sentences). Start with the scope and the main figure exactly as
the findings' first line says them. Use only numbers that appear in the findings; never estimate, round
differently or invent one. Do not repeat the list of facts or their names. Do not add advice the findings do
not support."""


def numbers_in(text: str) -> list[tuple[float, float]]:
    """Each number in `text` and how far from it the true value may be, given how it is written:
    "1,486" is 1486 ± 0.5, "2.3" is 2.3 ± 0.05, "1.5k" is 1500 ± 50."""
    found = []
    for digits, suffix in _NUMBER.findall(text):
        plain = digits.replace(",", "")
        decimals = len(plain.split(".")[1]) if "." in plain else 0
        scale = _SCALES.get(suffix, 1.0)
        found.append((float(plain) * scale, 0.5 * 10**-decimals * scale))
    return found


def grounded(text: str, sources: Iterable[float]) -> bool:
    """Whether every number in `text` is one of `sources`, up to the precision it is written with."""
    known = [abs(v) for v in sources]
    return all(any(abs(value - k) <= slack + 1e-9 for k in known) for value, slack in numbers_in(text))


def states(text: str, value: float) -> bool:
    """Whether `text` writes `value`, at whatever precision it chose."""
    return any(abs(found - abs(value)) <= slack + 1e-9 for found, slack in numbers_in(text))


_PROMPT = re.compile(r"\b(?:facts|findings|question)\s*:|^\s*-\s*\w+_\w+\s*:", re.IGNORECASE | re.MULTILINE)


def fault(text: str, facts: dict[str, Fact], key: str | None, scope: str, *sources: str) -> str | None:
    """Why a model's narrative cannot stand in for the template (the first of `sources`), or None when it
    can."""
    if _PROMPT.search(text) or any("_" in k and k in text for k in facts):
        return "it echoes the prompt"
    if not text.rstrip().endswith((".", "!", "?", ")", '"')):
        return "it is cut off"  # a model stopped by its token budget mid-sentence
    template = sources[0] if sources else ""
    if len(text) > max(2 * len(template), MIN_ROOM):
        return "it is far longer than the findings"  # a one-line figure padded into claims nobody checked
    if not grounded(text, sources_of(facts, *sources)):
        return "it states numbers the findings do not hold"
    figure = facts.get(key) if key else None
    if isinstance(figure, (int, float)) and not states(text, float(figure)):
        return f"it leaves out the answer's figure ({key} = {figure})"
    missing = [part for part in scope.split(", ") if part and part.lower() not in text.lower()]
    if missing:
        return f"it does not say the scope ({', '.join(missing)})"
    return None


def sources_of(facts: dict[str, Fact], *texts: str) -> list[float]:
    values = [float(v) for v in facts.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return values + [v for text in texts for v, _ in numbers_in(text)]


class Narrator:
    """Writes answers' narratives with `model`."""

    def __init__(self, model: BaseChatModel, timeout: float = 30.0) -> None:
        self.model = model
        self.timeout = timeout

    async def write(
        self, question: str, template: str, facts: dict[str, Fact], key: str | None = None, scope: str = ""
    ) -> str | None:
        """The model's narrative, or None when it is unusable (the caller keeps the template). `key` names
        the fact that answers the question and `scope` what it covers; the narrative must state both."""
        findings = template + "\n\nFacts:\n" + "\n".join(f"- {k}: {v}" for k, v in facts.items())
        messages = [
            SystemMessage(INSTRUCTIONS),
            HumanMessage(f"Question: {question}\n\nFindings:\n{findings}"),
        ]
        try:
            text = (await ask(self.model, messages, self.timeout)).strip()
        except ModelUnavailableError as exc:
            log.warning("model did not write the narrative (%s); the template answers", exc)
            return None
        if not text:
            return None
        if (why := fault(text, facts, key, scope, template, question)) is not None:
            log.warning("model's narrative is not kept (%s); the template answers", why)
            return None
        return text
