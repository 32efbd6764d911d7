"""A model's narrative is kept only when every number in it is a finding's, to the precision written."""

from __future__ import annotations

import pytest

from agents.answers.base import Facts
from agents.narrative import Narrator, fault, grounded, numbers_in, sources_of
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


TEMPLATE = "GCP, last 7 days: 6,658.62 USD."
SPEND: Facts = {"total_usd": 6658.62, "days": 7}


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("On GCP over the last 7 days you spent 6,658.62 USD.", None),
        ("GCP cost about 6.7k USD in the last 7 days.", None),  # the figure, rounded as written
        ("GCP spending over the last 7 days looks healthy and under control.", "figure"),  # no figure at all
        ("You spent 6,658.62 USD over the last 7 days.", "scope"),  # whose spend? not said
        ("Finding a two-bedroom apartment to rent in the city costs about 7 a day.", "figure"),
        ("GCP, last 7 days:\n- total_usd: 6658.62\n- days: 7", "echoes"),  # the prompt's facts block
        ("Facts: GCP, last 7 days: 6,658.62 USD.", "echoes"),
        ("GCP, last 7 days: 6,658.62 USD, up 12% on the week before.", "numbers"),  # 12 is made up
        ("GCP, last 7 days: 6,658.62 USD. This indicates that the company has been spending", "cut off"),
        ("GCP, last 7 days: 6,658.62 USD. " + "It keeps the company reliable. " * 12, "longer"),
    ],
)
def test_a_narrative_states_the_figure_and_scope_and_does_not_echo_the_prompt(
    text: str, why: str | None
) -> None:
    found = fault(text, SPEND, "total_usd", "GCP, last 7 days", TEMPLATE)
    assert (found is None) if why is None else (found is not None and why in found), found
