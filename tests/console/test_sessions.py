"""Console sessions without a browser: the sign-in form's own CSRF token, no open redirect after signing
in, a revoked key ending its sessions, static files a browser may keep, and --no-auth's local admin."""

from __future__ import annotations

import re

import httpx

from api.service.app import create_app
from api.service.keys import create_key
from api.service.settings import ServiceSettings
from graphs.service_store import ServiceStore
from mock_cloud import CloudSimulator
from tests.conftest import cloud_of


def _token(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


async def test_sign_in_is_guarded_and_a_revoked_key_ends_its_sessions() -> None:
    settings = ServiceSettings(db="memory", size=200, key_trust_seconds=0)
    app = create_app(settings, cloud=cloud_of(CloudSimulator(7, 200)), sweep=False)
    async with app.router.lifespan_context(app):
        key = await create_key(app.state.rollouts.db, "alice", "viewer")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
            form = await client.get("/login?next=//evil.example.com/")
            forged = await client.post("/login", data={"csrf": "guessed", "key": key, "next": "/"})
            assert forged.status_code == 403 and "nothing was done" in forged.text
            signed = await client.post(
                "/login", data={"csrf": _token(form), "key": key, "next": "//evil.example.com/"}
            )
            assert signed.status_code == 303 and signed.headers["location"] == "/"  # never off-site
            cookie = signed.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
            assert (await client.get("/rollouts")).status_code == 200
            assert await ServiceStore(app.state.rollouts.db).revoke_key("alice")
            gone = await client.get("/rollouts")
            assert gone.status_code == 303 and gone.headers["location"] == "/login?next=/rollouts"
            swap = await client.get("/fleet", headers={"hx-request": "true"})
            assert swap.headers["hx-redirect"] == "/login?next=/fleet"
            css = await client.get("/static/console.css?v=1")
            assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
        async with httpx.AsyncClient(transport=transport, base_url="https://console") as client:
            form = await client.get("/login")
            assert "Secure" in form.headers["set-cookie"]  # behind TLS, cookies only travel over it


async def test_without_auth_the_console_is_the_local_admins() -> None:
    app = create_app(
        ServiceSettings(db="memory", size=200, auth=False),
        cloud=cloud_of(CloudSimulator(7, 200)),
        sweep=False,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as client:
            assert (await client.get("/login")).headers["location"] == "/"
            budgets = await client.get("/budgets")
            assert "local · admin" in budgets.text and "New budget" in budgets.text
            made = await client.post(
                "/budgets",
                data={
                    "csrf": _token(budgets),
                    "name": "all",
                    "amount": "1000",
                    "thresholds": "80",
                    "forecast": "",
                },
            )
            assert made.status_code == 303
            assert (await client.post("/budgets", data={"name": "x", "amount": "1"})).status_code == 403
            listed = await client.get("/budgets")
            assert 'id="all"' in listed.text and "1,000.00 USD a month" in listed.text
