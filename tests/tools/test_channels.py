"""The channels against real local receivers: a signed webhook a receiver can verify, a Slack Block Kit
message whose approval request links to the decision, an e-mail through a real SMTP server with a login;
answers mapped to "try again" or "give up"; and nothing shown of a channel holds its secrets."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from tests.receivers import http_receiver, smtp_server
from tools.channels.email import EmailTarget
from tools.channels.http import DeliveryError
from tools.channels.notice import Notice
from tools.channels.slack import SlackTarget
from tools.channels.subscription import Channel
from tools.channels.webhook import WebhookTarget
from tools.models import InstanceFilter

SECRET = "s3cr3t-signing-key-0123456789"
APPROVAL = Notice(
    key="approval_requested/wf-1",
    event="approval_requested",
    severity="warning",
    title="Approval needed: spot migration wf-1",
    text="ops asks to carry out a spot migration of 12 instances, 4,200.00 USD/month saved, low risk <now>.",
    at=datetime(2026, 6, 17, 6, 0, tzinfo=UTC),
    scope=InstanceFilter(provider="aws", tags={"team": "ml"}),
    link="https://optiinfra.example.com/api/v1/workflows/wf-1",
    action="optiinfra workflow approve wf-1 --by NAME",
    facts={"monthly_usd": 4200.0},
)


async def test_a_webhook_is_signed_so_the_receiver_can_trust_it() -> None:
    with http_receiver() as receiver:
        target = WebhookTarget(url=f"{receiver.url}/hooks/optiinfra?token=abc", secret=SECRET)
        await target.send(APPROVAL, "d-1")
        await WebhookTarget(url=receiver.url).send(APPROVAL, "d-2")  # no secret: no signature
    signed, unsigned = receiver.posts
    assert signed.path == "/hooks/optiinfra?token=abc"
    assert signed.signed_by(SECRET) and not signed.signed_by("another-secret-entirely")
    assert abs(int(signed.headers["x-optiinfra-timestamp"]) - time.time()) < 60
    assert signed.headers["x-optiinfra-delivery"] == "d-1"
    assert signed.headers["x-optiinfra-event"] == "approval_requested"
    body = signed.json()
    assert body["event"] == "approval_requested" and body["facts"] == {"monthly_usd": 4200.0}
    assert body["scope"]["tags"] == {"team": "ml"}
    assert "x-optiinfra-signature" not in unsigned.headers


async def test_answers_say_whether_to_try_again() -> None:
    with http_receiver() as receiver:
        target = WebhookTarget(url=receiver.url)
        receiver.answers = [503, 429, 404]
        for retryable in (True, True, False):
            with pytest.raises(DeliveryError) as raised:
                await target.send(APPROVAL, "d")
            assert raised.value.retryable is retryable
        assert raised.value.message == "HTTP 404: no_service"
    with pytest.raises(DeliveryError, match="cannot connect") as down:  # the receiver is gone
        await target.send(APPROVAL, "d")
    assert down.value.retryable and receiver.url not in down.value.message


async def test_slack_gets_block_kit_with_a_button_to_the_decision() -> None:
    with http_receiver() as receiver:
        await SlackTarget(url=f"{receiver.url}/services/T000/B000/XXXX").send(APPROVAL, "d")
    message = receiver.posts[0].json()
    assert message["text"].startswith("Approval needed: spot migration wf-1")
    kinds = [b["type"] for b in message["blocks"]]
    assert kinds == ["header", "section", "context", "section", "actions"]
    assert "&lt;now&gt;" in message["blocks"][1]["text"]["text"]  # mrkdwn's markup characters escaped
    button = message["blocks"][-1]["elements"][0]
    assert button["url"] == APPROVAL.link and button["text"]["text"] == "Review and decide"
    assert button["style"] == "primary"


async def test_email_goes_through_a_real_smtp_server_with_a_login() -> None:
    with smtp_server(user="optiinfra", password="hunter22") as box:
        target = EmailTarget(to=["finops@example.com", "lead@example.com"], sender="optiinfra@example.com",
                             host=box.host, port=box.port, username="optiinfra",
                             password="hunter22")  # fmt: skip
        await target.send(APPROVAL, "d-9")
        wrong = target.model_copy(update={"password": "nope"})
        with pytest.raises(DeliveryError, match="SMTP 535") as refused:
            await wrong.send(APPROVAL, "d-9")
        assert not refused.value.retryable  # a wrong password does not get better by waiting
    (message,) = box.messages
    assert box.logins == ["optiinfra"]
    assert box.envelopes == [("optiinfra@example.com", ["finops@example.com", "lead@example.com"])]
    assert message["Subject"] == "[OptiInfra warning] Approval needed: spot migration wf-1"
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    body = payload.decode()
    assert "optiinfra workflow approve wf-1 --by NAME" in body and f"Open: {APPROVAL.link}" in body


def test_what_is_shown_of_a_channel_holds_no_secret() -> None:
    channels = [
        Channel(name="hook", target=WebhookTarget(url="https://hooks.example.com/a/TOKEN123", secret=SECRET)),
        Channel(name="slack", target=SlackTarget(url="https://hooks.slack.com/services/T0/B0/SECRETPATH")),
        Channel(name="mail", target=EmailTarget(to=["a@example.com"], host="smtp.example.com", port=587,
                                                starttls=True, username="bot", password="PASSWORD99")),
    ]  # fmt: skip
    shown = [c.shown().model_dump_json() for c in channels]
    for text in shown:
        for secret in ("TOKEN123", SECRET, "SECRETPATH", "PASSWORD99"):
            assert secret not in text
    assert "https://hooks.example.com/… (signed)" in shown[0]
    assert "e-mail to a@example.com via smtp.example.com:587 with STARTTLS as bot" in shown[2]


def test_a_channel_takes_the_events_severity_and_part_of_the_fleet_it_asked_for() -> None:
    ml_warnings = Channel(name="ml", target=SlackTarget(url="https://hooks.slack.com/x"),
                          events=["approval_requested", "budget_threshold"], min_severity="warning",
                          scope=InstanceFilter(tags={"team": "ml"}))  # fmt: skip
    assert ml_warnings.wants(APPROVAL)
    assert not ml_warnings.wants(APPROVAL.model_copy(update={"severity": "info"}))
    assert not ml_warnings.wants(APPROVAL.model_copy(update={"event": "rollout_completed"}))
    assert not ml_warnings.wants(APPROVAL.model_copy(update={"scope": InstanceFilter(tags={"team": "web"})}))
    assert not ml_warnings.wants(APPROVAL.model_copy(update={"scope": InstanceFilter(provider="aws")}))
    with pytest.raises(ValidationError, match="not an e-mail address"):
        EmailTarget(to=["not an address"], host="smtp.example.com")
    with pytest.raises(ValidationError, match="http"):
        WebhookTarget(url="ftp://example.com/hook")
