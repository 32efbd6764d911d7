"""A Slack incoming webhook: the notice as a Block Kit message — a header, the text, its severity and time,
the command to act on it, and a button to where it is decided or read."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from tools.channels.http import checked_url, post, shown_url
from tools.channels.notice import Notice

_ICONS = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}
# Slack's limits: a header's text 150 characters, a section's 3,000.
_HEADER, _SECTION = 150, 3000


class SlackTarget(BaseModel):
    kind: Literal["slack"] = "slack"
    url: str = Field(max_length=2000, description="The incoming webhook's URL (a secret: never shown)")

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        return checked_url(url)

    def describe(self) -> str:
        return f"Slack incoming webhook {shown_url(self.url)}"

    async def send(self, notice: Notice, delivery_id: str) -> None:
        body = json.dumps(message(notice)).encode()
        await post(self.url, body, {"content-type": "application/json"})


def message(notice: Notice) -> dict[str, Any]:
    """The Block Kit payload; `text` is what notifications and screen readers show."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notice.title[:_HEADER]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _escape(notice.text)[:_SECTION]}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{_ICONS[notice.severity]} *{notice.severity}* · {notice.event} · "
                    f"{notice.at.strftime('%Y-%m-%d %H:%M UTC')}",
                }
            ],
        },
    ]
    if notice.action:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"`{_escape(notice.action)}`"}})
    if notice.link:
        deciding = notice.event in ("approval_requested", "approval_deadline_near", "approval_escalated")
        button = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Review and decide" if deciding else "Open"},
            "url": notice.link,
            "action_id": "open",
        }
        if deciding:
            button["style"] = "primary"
        blocks.append({"type": "actions", "elements": [button]})
    return {"text": f"{notice.title}: {notice.text}"[:_SECTION], "blocks": blocks}


def _escape(text: str) -> str:
    """Slack's mrkdwn reads &, < and > as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
