"""The narrative of an answer: the specialist's template, or a model's rewording of it that states no number
the findings do not hold.

A model is handed the question, the templated answer and its facts, and asked for a short reply. Its text
is kept only if every number in it is one of the facts' (or the template's, or the question's) to the
precision it is written with: "1,486 USD" or "1.5k" for 1485.55 pass, "1.4k" or a number made up does
not. An invalid, empty, late or ungrounded reply leaves the template, which is grounded by construction.
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
INSTRUCTIONS = """You are an operations assistant for cloud costs. Rewrite the findings below as a short,
plain answer to the user's question (at most 5 sentences). Use only numbers that appear in the findings;
never estimate, round differently or invent one. Do not add advice the findings do not support."""


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


def sources_of(facts: dict[str, Fact], *texts: str) -> list[float]:
    values = [float(v) for v in facts.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return values + [v for text in texts for v, _ in numbers_in(text)]


class Narrator:
    """Writes answers' narratives with `model`."""

    def __init__(self, model: BaseChatModel, timeout: float = 30.0) -> None:
        self.model = model
        self.timeout = timeout

    async def write(self, question: str, template: str, facts: dict[str, Fact]) -> str | None:
        """The model's narrative, or None when it is unusable (the caller keeps the template)."""
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
        if not grounded(text, sources_of(facts, template, question)):
            log.warning("model's narrative states numbers the findings do not hold; the template answers")
            return None
        return text
