"""A model's narrative is kept only when every number in it is a finding's, to the precision written."""

from __future__ import annotations

import pytest

from agents.answers.base import Facts
from agents.narrative import Narrator, grounded, numbers_in, sources_of
from tests.agents.scripted_model import HANG, ScriptedChatModel

FACTS: Facts = {"total_usd": 1485.55, "instances": 42, "p95_cpu_pct": 78.4, "region": "us-east-1"}


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("You spent 1,485.55 USD across 42 instances.", True),
        ("About 1,486 USD, or 1.5k, with P95 CPU near 78%.", True),  # rounded as written
        ("m5.large in us-east-1 and i-0a1b2c3d4e5f60718 run at 78.4%.", True),  # names hold no numbers
        ("You spent 1,400 USD.", False),  # rounded wrongly
        ("Spend was 1.4k.", False),
        ("42 instances, 7 of them idle.", False),  # 7 is made up
        ("No numbers at all.", True),
    ],
)
def test_numbers_must_come_from_the_findings(text: str, ok: bool) -> None:
    assert grounded(text, sources_of(FACTS)) is ok


def test_numbers_carry_the_precision_they_are_written_with() -> None:
    assert numbers_in("1,486 and 2.30 and 1.5k and +4.2%") == [
        (1486.0, 0.5),
        (2.3, 0.005),
        (1500.0, 50.0),
        (4.2, 0.05),
    ]


async def test_an_ungrounded_empty_or_late_narrative_leaves_the_template() -> None:
    template = "Cloud spend over the last 30 days: 1,485.55 USD."
    for reply in ("You spent 9,999 USD.", "", HANG):
        narrator = Narrator(ScriptedChatModel(replies=[reply]), timeout=0.05)
        assert await narrator.write("what did we spend?", template, FACTS) is None
    good = Narrator(ScriptedChatModel(replies=["Over the last 30 days: about 1,486 USD."]))
    assert (
        await good.write("what did we spend?", template, FACTS) == "Over the last 30 days: about 1,486 USD."
    )
