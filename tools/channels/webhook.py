"""A webhook: the notice as JSON, signed with HMAC-SHA256 when the channel has a secret.

The receiver checks `X-OptiInfra-Signature: v1=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>` under the
shared secret, with `<timestamp>` from `X-OptiInfra-Timestamp` (Unix seconds; refuse old ones to stop
replays), as Stripe's and Slack's signing schemes do. `X-OptiInfra-Delivery` is the same on every retry of
one notice to one channel, so a receiver can drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from tools.channels.http import checked_url, post, shown_url
from tools.channels.notice import Notice

SIGNATURE_HEADER = "X-OptiInfra-Signature"
TIMESTAMP_HEADER = "X-OptiInfra-Timestamp"
DELIVERY_HEADER = "X-OptiInfra-Delivery"
EVENT_HEADER = "X-OptiInfra-Event"


class WebhookTarget(BaseModel):
    kind: Literal["webhook"] = "webhook"
    url: str = Field(max_length=2000, description="Where to POST the JSON (kept secret: never shown)")
    secret: str | None = Field(None, min_length=16, max_length=200, description="HMAC-SHA256 key")

    @field_validator("url")
    @classmethod
    def _http(cls, url: str) -> str:
        return checked_url(url)

    def describe(self) -> str:
        return f"webhook to {shown_url(self.url)}" + (" (signed)" if self.secret else "")

    async def send(self, notice: Notice, delivery_id: str) -> None:
        body = json.dumps({"delivery": delivery_id, **notice.model_dump(mode="json")}).encode()
        headers = {
            "content-type": "application/json",
            DELIVERY_HEADER: delivery_id,
            EVENT_HEADER: notice.event,
        }
        if self.secret:
            timestamp = str(int(time.time()))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = "v1=" + signature(self.secret, timestamp, body)
        await post(self.url, body, headers)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of `<timestamp>.<body>`: what a receiver recomputes to trust a post."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
