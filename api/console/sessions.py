"""Who is signed in to the console: an API key, given once on the sign-in page, opens a session.

The browser keeps a random token in a cookie (HttpOnly, SameSite=Strict, Secure behind TLS); the database
keeps its hash, the key it was opened with and the session's CSRF token, so every replica knows the
session, signing out ends it everywhere, and a revoked key ends its sessions within the key trust window.
Every form and every POST carries the CSRF token (a hidden field, or the X-CSRF-Token header HTMX sends):
a request forged from another site has neither the cookie (SameSite) nor the token. What a visitor may see
and do is their key's role, decided by the same rule as over HTTP (graphs.rollout.authority).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from fastapi import Request, Response

from api.service.keys import key_hash
from api.service.problems import Problem
from api.service.security import Guard
from graphs.rollout.authority import Caller
from graphs.service_store import ServiceStore, Session

COOKIE = "optiinfra_session"
LOGIN_COOKIE = (
    "optiinfra_signin"  # the sign-in form's own CSRF token (double submit: there is no session yet)
)
CSRF_HEADER = "x-csrf-token"
SESSION_HOURS = 12
# --no-auth: one local user, an admin, whose CSRF token is this process's (it serves 127.0.0.1 only).
LOCAL = Caller("local", "admin")


@dataclass(frozen=True)
class Visitor:
    caller: Caller
    csrf: str
    token_hash: str | None  # None: --no-auth's local user, who has no session to end


class SignInNeeded(Exception):
    """No live session: the visitor is sent to the sign-in page (and back afterwards)."""


class CsrfError(Exception):
    """A form or POST without the session's CSRF token: refused, nothing done."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def behind_tls(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


async def visitor(request: Request) -> Visitor:
    """The signed-in visitor (a FastAPI dependency); SignInNeeded when there is none."""
    guard: Guard = request.app.state.guard
    if not guard.auth:
        return Visitor(LOCAL, request.app.state.console_csrf, None)
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInNeeded
    session = await ServiceStore(guard.keys.db).session(_hash(token))
    if session is None:
        raise SignInNeeded
    if session.key_hash is None:  # opened without auth, read with it: not a session of this service's
        raise SignInNeeded
    try:
        caller = await guard.caller_of_hash(session.key_hash)
    except Problem:  # the key was revoked: its sessions end with it
        raise SignInNeeded from None
    return Visitor(caller, session.csrf, session.token_hash)


async def sign_in(request: Request, key: str) -> tuple[str, Caller]:
    """Open a session for the holder of `key`; returns the cookie's token and who they are. A Problem(401)
    for a key that is unknown or revoked."""
    guard: Guard = request.app.state.guard
    hashed = key_hash(key.strip())
    caller = await guard.caller_of_hash(hashed)
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    session = Session(token_hash=_hash(token), key_hash=hashed, csrf=secrets.token_urlsafe(24),
                      created_at=now, expires_at=now + timedelta(hours=SESSION_HOURS))  # fmt: skip
    await ServiceStore(guard.keys.db).open_session(session)
    return token, caller


async def sign_out(request: Request, who: Visitor) -> None:
    if who.token_hash is not None:
        await ServiceStore(request.app.state.guard.keys.db).close_session(who.token_hash)


def keep(response: Response, request: Request, name: str, value: str, hours: float = SESSION_HOURS) -> None:
    """Set a console cookie: only the server reads it, never sent from another site, only over TLS when
    the console is served over TLS."""
    response.set_cookie(name, value, max_age=int(hours * 3600), httponly=True, samesite="strict",
                        secure=behind_tls(request), path="/")  # fmt: skip


@dataclass(frozen=True)
class Form:
    """A POSTed form (URL-encoded: the console uploads no files)."""

    fields: dict[str, list[str]]

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, [default])[-1].strip()

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self.fields.get(name, []) if v.strip()]


async def form(request: Request, who: Visitor | None = None, expected: str | None = None) -> Form:
    """The POSTed form, once its CSRF token is the session's (or `expected`); CsrfError if not."""
    body = (await request.body()).decode("utf-8", errors="replace")
    posted = Form(parse_qs(body, keep_blank_values=True))
    given = posted.get("csrf") or request.headers.get(CSRF_HEADER, "")
    wanted = expected if expected is not None else who.csrf if who else ""
    if not wanted or not given or not hmac.compare_digest(given, wanted):
        raise CsrfError
    return posted
