"""The web console, served by `optiinfra serve` itself at `/`: server-rendered pages (Jinja2), partial
updates (HTMX) and charts (Chart.js) from files in this package — nothing to build, no Node.js — on the
same service, keys and roles as the HTTP API. Offline API docs at /docs and /redoc."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from api.console import auth, chat, finops, fleet, overview, recommendations, rollouts
from api.console.access import install_handlers
from api.console.memo import Memo
from api.console.rendering import STATIC
from tools.provider import CloudProvider

DOCS_STATIC = Path(fastapi_offline.__file__).parent / "static"
PAGES = (
    auth.router,
    overview.router,
    recommendations.router,
    rollouts.router,
    fleet.router,
    finops.router,
    chat.router,
)


class CachedStatic(StaticFiles):
    """Static files a browser may keep: the console's URLs carry their content's hash (`static_url`), the
    docs' assets change only with the package."""

    def __init__(self, directory: Path, max_age: int) -> None:
        super().__init__(directory=directory)
        self.max_age = max_age

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = f"public, max-age={self.max_age}, immutable"
        return response


def install(app: FastAPI) -> None:
    """Add the console's pages, its static files and the offline docs to the service's app."""
    app.mount("/static", CachedStatic(STATIC, 365 * 86400), name="console-static")
    app.mount("/docs-static", CachedStatic(DOCS_STATIC, 86400), name="docs-static")
    for router in PAGES:
        app.include_router(router)
    install_handlers(app)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} — API",
            swagger_js_url="/docs-static/swagger-ui-bundle.js", swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon.png",
        )  # fmt: skip

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} — API",
                              redoc_js_url="/docs-static/redoc.standalone.js",
                              redoc_favicon_url="/docs-static/favicon.png")  # fmt: skip


def start(app: FastAPI, cloud: CloudProvider) -> None:
    """What the console keeps while the service runs (called from the service's lifespan)."""
    app.state.console_memo = Memo(cloud)
    app.state.console_csrf = secrets.token_urlsafe(24)  # --no-auth's local user's forms
