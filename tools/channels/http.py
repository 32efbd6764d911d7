"""Posting to an HTTP endpoint for a channel: which answers mean "try again", and errors that never carry the
endpoint's address (a Slack webhook URL is a secret, and httpx puts URLs in its messages)."""

from __future__ import annotations

import functools
import ssl
from urllib.parse import urlsplit

import httpx

TIMEOUT_SECONDS = 10.0
# Worth another try: the receiver is busy, down for a moment, or asks us to slow down.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class DeliveryError(Exception):
    """A notification the channel did not take. `retryable`: whether sending it again later may work."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every post: making one (loading the CA bundle) took most of a post's time."""
    return ssl.create_default_context()


def checked_url(url: str) -> str:
    """An http(s) URL with a host, or ValueError (for the channels' validators)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http:// or https:// URL with a host")
    return url


def shown_url(url: str) -> str:
    """The URL without what makes it a secret: scheme and host only."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


async def post(url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """POST `body`; a 2xx answer is returned, anything else raised as a DeliveryError."""
    try:
        async with httpx.AsyncClient(
            timeout=TIMEOUT_SECONDS, follow_redirects=False, verify=_tls()
        ) as client:
            answer = await client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise DeliveryError(f"no answer within {TIMEOUT_SECONDS:g} s", retryable=True) from None
    except httpx.TransportError as exc:
        raise DeliveryError(f"cannot connect ({type(exc).__name__})", retryable=True) from None
    if not answer.is_success:
        said = answer.text.strip()[:200]
        raise DeliveryError(
            f"HTTP {answer.status_code}" + (f": {said}" if said else ""),
            retryable=answer.status_code in RETRYABLE_STATUSES,
        )
    return answer
