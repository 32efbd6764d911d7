"""Who is calling and what they may do: API keys (Bearer), roles, a rate limit per key, a body size limit."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import unquote

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.service.keys import key_hash
from api.service.problems import Problem, problem
from graphs.rollout.authority import Action, Caller, permit
from graphs.service_store import ServiceStore

_MOST_TRUSTED_KEYS = 10_000


@dataclass
class Guard:
    keys: ServiceStore
    auth: bool
    rate_per_minute: int
    # A key found valid is trusted this long without asking the database again: the key lookup was a third
    # of a cheap request's time. Only valid keys are remembered, so a key made a moment ago works at once.
    trust_seconds: float = 5.0
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # name → (tokens, last refill)
    _trusted: dict[str, tuple[Caller, float]] = field(default_factory=dict)  # hash → (caller, until)

    async def caller(self, request: Request) -> Caller:
        if not self.auth:
            return Caller("local", "admin")  # --no-auth: a single user on their own machine
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Problem(401, "send an API key: Authorization: Bearer <key>", {"WWW-Authenticate": "Bearer"})
        caller = await self.caller_of_hash(key_hash(token.strip()))
        self._spend(caller.name)
        return caller

    async def caller_of_hash(self, hashed: str) -> Caller:
        """The caller a key (by its hash) stands for; a Problem(401) for an unknown or revoked one."""
        now = self.clock()
        trusted = self._trusted.get(hashed)
        if trusted is not None and trusted[1] > now:
            return trusted[0]
        key = await self.keys.key_by_hash(hashed)
        if key is None or key.revoked_at is not None:
            self._trusted.pop(hashed, None)
            raise Problem(401, "unknown or revoked API key", {"WWW-Authenticate": "Bearer"})
        caller = Caller(key.name, key.role)
        if self.trust_seconds > 0:
            if len(self._trusted) >= _MOST_TRUSTED_KEYS:  # expired entries go; a flood of keys cannot grow it
                self._trusted = {h: t for h, t in self._trusted.items() if t[1] > now}
                if len(self._trusted) >= _MOST_TRUSTED_KEYS:
                    self._trusted.clear()
            self._trusted[hashed] = (caller, now + self.trust_seconds)
        return caller

    def _spend(self, name: str) -> None:
        """A token bucket per key: `rate_per_minute` requests a minute, in bursts of up to that many."""
        now = time.monotonic()
        tokens, last = self._buckets.get(name, (float(self.rate_per_minute), now))
        tokens = min(float(self.rate_per_minute), tokens + (now - last) * self.rate_per_minute / 60)
        if tokens < 1:
            wait = (1 - tokens) * 60 / self.rate_per_minute
            raise Problem(429, f"rate limit of {self.rate_per_minute} requests a minute reached",
                          {"Retry-After": str(max(1, round(wait)))})  # fmt: skip
        self._buckets[name] = (tokens - 1, now)


def require(action: Action) -> Callable[[Request], Awaitable[Caller]]:
    """The caller, if their role allows `action` (the domain's rule; a refusal is a 403 in its words)."""

    async def check(request: Request) -> Caller:
        caller: Caller = await request.app.state.guard.caller(request)
        permit(caller, action)
        return caller

    return check


class BodyLimit:
    """Refuses request bodies over `limit` bytes with 413, whether or not they say their length, and URLs
    holding a NUL character with 400 (no database takes one)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = problem(413, f"request bodies are limited to {self.limit} bytes")
        if "\x00" in scope["path"] or "\x00" in unquote(scope["query_string"].decode("latin-1")):
            await problem(400, "a URL may not contain NUL characters")(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await too_large(scope, receive, send)
            return
        seen, exceeded, answered = 0, False, False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                exceeded = True
                raise Problem(413, f"request bodies are limited to {self.limit} bytes")
            return message

        async def answer(message: Message) -> None:
            # A streamed body found too large while the route read it: FastAPI reports any failure to read
            # a body as a 400; the client is told the real reason instead.
            nonlocal answered
            if exceeded:
                if not answered:
                    answered = True
                    await too_large(scope, receive, send)
                return
            await send(message)

        await self.app(scope, counted, answer)
