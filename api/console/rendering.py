"""Pages from templates: one Jinja2 environment (autoescaped), the figures' formats, and what every page
shows (who is signed in, what their role lets them do, the CSRF token its forms carry, the navigation)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.console.sessions import Visitor
from graphs.rollout.authority import allowed
from tools.analysis.off_hours import OffHoursSchedule

HERE = Path(__file__).parent
STATIC = HERE / "static"
# The sections of the console, in the navigation's order: (path, label).
NAVIGATION = (
    ("/", "Overview"),
    ("/recommendations", "Recommendations"),
    ("/rollouts", "Rollouts"),
    ("/fleet", "Fleet"),
    ("/budgets", "Budgets"),
    ("/anomalies", "Anomalies"),
    ("/notifications", "Notifications"),
    ("/chat", "Chat"),
)


def usd(amount: float | None, decimals: int = 2) -> str:
    return "—" if amount is None else f"{amount:,.{decimals}f} USD"


def pct(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.1f} %" if signed else f"{value:.1f} %"


def when(moment: datetime | str | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def change_target(target: str, action: str) -> str:
    """A change's end state in words: an off-hours schedule's tag as the hours it keeps a machine off."""
    return OffHoursSchedule.parse(target).describe() if action == "schedule-off-hours" else target


@cache
def static_url(name: str) -> str:
    """A static file's URL with its content's hash, so browsers may keep it for a year and still see a new
    version the moment it changes."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters |= {"usd": usd, "pct": pct, "when": when, "change_target": change_target}
    env.globals |= {"static_url": static_url, "navigation": NAVIGATION}
    return env


def page(
    request: Request, template: str, visitor: Visitor | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """The page `template` for `visitor` (None on the sign-in page)."""
    can = {}
    if visitor is not None:
        can = {action: allowed(visitor.caller.role, action) for action in ("start", "manage", "decide")}
    html = (
        environment()
        .get_template(template)
        .render(request=request, visitor=visitor, can=can, path=request.url.path, **context)
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})
