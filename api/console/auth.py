"""Signing in with an API key, and out."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.console.access import VisitorDep
from api.console.rendering import page
from api.console.sessions import COOKIE, LOGIN_COOKIE, form, keep, sign_in, sign_out
from api.service.problems import Problem

router = APIRouter(include_in_schema=False)


def _safe_next(target: str) -> str:
    """Back where the visitor was going, on this site only (never an open redirect)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002 (the query's name)
    if not request.app.state.guard.auth:
        return RedirectResponse("/", status_code=303)
    token = secrets.token_urlsafe(24)
    shown = page(request, "login.html", None, title="Sign in", signin_token=token, next=_safe_next(next),
                 error=None)  # fmt: skip
    keep(shown, request, LOGIN_COOKIE, token, hours=1)
    return shown


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    posted = await form(request, expected=request.cookies.get(LOGIN_COOKIE, ""))
    target = _safe_next(posted.get("next", "/"))
    try:
        token, _ = await sign_in(request, posted.get("key"))
    except Problem:
        again = secrets.token_urlsafe(24)
        refused = page(request, "login.html", None, status_code=401, title="Sign in", signin_token=again,
                       next=target, error="That key is unknown or revoked.")  # fmt: skip
        keep(refused, request, LOGIN_COOKIE, again, hours=1)
        return refused
    done = RedirectResponse(target, status_code=303)
    keep(done, request, COOKIE, token)
    done.delete_cookie(LOGIN_COOKIE, path="/")
    return done


@router.post("/logout")
async def logout(request: Request, who: VisitorDep) -> Response:
    await form(request, who)
    await sign_out(request, who)
    gone = RedirectResponse("/login", status_code=303)
    gone.delete_cookie(COOKIE, path="/")
    return gone
