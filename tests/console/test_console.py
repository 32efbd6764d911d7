"""The console as people use it, in a real browser: sign in with an API key; the overview's charts drawn and
its figures the API's; recommendations filtered to the API's totals and a rollout started from them; a
viewer sees no decision controls and a forged POST changes nothing; an approver approves on the rollout's
page and watches its waves arrive; the fleet paged and an instance charted; chat; signing out ends the
session."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.console.conftest import Console
from tools.analysis.kinds import KINDS

DRAWN = "() => [...document.querySelectorAll('canvas[data-chart]')].every(c => Chart.getChart(c))"


def _api(console: Console, role: str, path: str, **params: object) -> dict[str, object]:
    answer = httpx.get(
        f"{console.url}{path}",
        params=params,  # type: ignore[arg-type]
        headers={"Authorization": f"Bearer {console.keys[role]}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def _go(page: Page, section: str) -> None:
    page.get_by_role("navigation", name="Sections").get_by_role("link", name=section).click()


def _usd(text: str) -> float:
    return float(re.sub(r"[^\d.]", "", text))


def test_signing_in_shows_the_overview_with_the_apis_figures(browser: Browser, still: Console) -> None:
    anonymous = browser.new_page()
    anonymous.goto(f"{still.url}/recommendations")
    expect(anonymous).to_have_url(re.compile(r"/login\?next=/recommendations"))
    anonymous.get_by_label("API key").fill("oik_not-a-key")
    anonymous.get_by_role("button", name="Sign in").click()
    expect(anonymous.get_by_role("alert")).to_have_text("That key is unknown or revoked.")
    still.shot(anonymous, "sign-in")

    page = still.sign_in(browser, "viewer")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    assert page.evaluate(DRAWN) and page.locator("canvas[data-chart]").count() >= 5
    shown = _usd(page.locator("#spent .value").inner_text())
    as_of = page.locator("main p.muted").first.inner_text()
    now = datetime.strptime(re.search(r"As of (.+ UTC)", as_of).group(1), "%Y-%m-%d %H:%M UTC")  # type: ignore[union-attr]
    since = (now - now.replace(day=1, hour=0, minute=0)).total_seconds() / 86400
    assert shown == round(_api(still, "viewer", "/api/v1/costs", days=since)["total"], 2)  # type: ignore[call-overload]
    by_cloud = _api(still, "viewer", "/api/v1/costs", days=since, group_by="provider")["groups"]
    rows = page.locator("#by-provider tbody tr")
    for group in by_cloud:  # type: ignore[attr-defined]
        row = rows.filter(has_text=group["key"])
        assert _usd(row.locator("td").nth(1).inner_text()) == round(group["amount"], 2)
    savings = _api(still, "viewer", "/api/v1/recommendations", limit=1)
    assert _usd(page.locator("#savings .value").inner_text()) == round(savings["monthly_savings"], 2)  # type: ignore[call-overload]
    still.shot(page, "overview")
    phone = still.sign_in(browser, "viewer", width=390, height=844)
    assert phone.evaluate(DRAWN)
    still.shot(phone, "overview-phone")


def test_recommendations_filtered_to_the_apis_totals_then_a_rollout_planned(
    browser: Browser, still: Console
) -> None:
    page = still.sign_in(browser, "operator")
    _go(page, "Recommendations")
    for kind in KINDS:
        if kind != "spot":
            page.get_by_label(kind, exact=True).uncheck()
    page.get_by_label("Environment").select_option("staging")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"kind=spot.*environment=staging|environment=staging.*kind=spot"))
    api = _api(still, "operator", "/api/v1/recommendations", kind="spot", tag="environment=staging", limit=1)
    expect(page.locator("#rec-count")).to_have_text(str(api["total"]))
    assert _usd(page.locator("#rec-savings").inner_text()) == round(api["monthly_savings"], 2)  # type: ignore[call-overload]
    assert page.locator("#recommendations tbody tr").count() == min(int(api["total"]), 50)  # type: ignore[call-overload]
    still.shot(page, "recommendations")
    first_two = page.locator("#recommendations tbody input[name=ids]")
    chosen = [first_two.nth(i).get_attribute("value") or "" for i in range(2)]
    first_two.nth(0).check()
    first_two.nth(1).check()
    page.get_by_role("button", name="Plan a rollout").click()
    expect(page).to_have_url(re.compile(r"/rollouts/wf-"))
    expect(page.get_by_role("heading", name="Waiting for approval")).to_be_visible(timeout=60_000)
    assert page.locator("#approval").get_by_text("2", exact=True).count() >= 1
    listed = page.locator("#approval").text_content() or ""  # the instances are folded away
    assert all(iid in listed for iid in chosen), (chosen, listed)
    expect(page.get_by_role("button", name="Approve all")).to_have_count(0)  # an operator does not decide
    still.shot(page, "rollout-pending")


def test_volumes_snapshots_and_addresses_are_in_the_recommendations(browser: Browser, still: Console) -> None:
    page = still.sign_in(browser, "viewer")
    storage = ("unattached_volume", "old_snapshot", "idle_address", "volume_type", "bucket_tier")
    page.goto(f"{still.url}/recommendations?" + "&".join(f"kind={k}" for k in storage))
    api = _api(still, "viewer", "/api/v1/recommendations", kind=list(storage), limit=1)
    expect(page.locator("#rec-count")).to_have_text(str(api["total"]))
    assert _usd(page.locator("#rec-savings").inner_text()) == round(api["monthly_savings"], 2)  # type: ignore[call-overload]
    first = page.locator("#recommendations tbody tr").first
    expect(first).to_contain_text("(")  # "(volume)", "(snapshot)", "(address)": not a machine
    assert first.locator("a[href^='/fleet/']").count() == 0  # no link to a machine's page
    expect(
        page.get_by_text(re.compile(r"\d+ volumes, \d+ snapshots, \d+ addresses, \d+ buckets"))
    ).to_be_visible()
    still.shot(page, "recommendations-storage")


def test_off_hours_schedules_are_said_in_hours_and_zones(browser: Browser, still: Console) -> None:
    page = still.sign_in(browser, "viewer")
    page.goto(f"{still.url}/recommendations?kind=off_hours")
    api = _api(still, "viewer", "/api/v1/recommendations", kind="off_hours", limit=1)
    expect(page.locator("#rec-count")).to_have_text(str(api["total"]))
    first = page.locator("#recommendations tbody tr").first
    expect(first).to_contain_text(re.compile(r"off 20:00-07:00 and at weekends, \w+/\w+ time"))
    expect(first).not_to_contain_text("stop=20:00")  # the tag's syntax is the cloud's, not the reader's
    still.shot(page, "recommendations-off-hours")


def test_a_viewer_sees_no_decision_controls_and_a_forged_post_changes_nothing(
    browser: Browser, still: Console
) -> None:
    started = httpx.post(
        f"{still.url}/api/v1/workflows",
        json={"kind": "rightsizing", "max_changes": 3},
        headers={"Authorization": f"Bearer {still.keys['operator']}"},
        timeout=60,
    )
    workflow_id = started.json()["workflow_id"]
    page = still.sign_in(browser, "viewer")
    page.goto(f"{still.url}/rollouts/{workflow_id}")
    expect(page.get_by_role("heading", name="Waiting for approval")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Approve all")).to_have_count(0)
    expect(page.get_by_role("button", name="Reject")).to_have_count(0)
    still.shot(page, "rollout-as-viewer")
    token = page.evaluate("() => JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRF-Token']")
    as_viewer = page.request.post(
        f"{still.url}/rollouts/{workflow_id}/decision",
        form={"csrf": token, "action": "approve"},
        max_redirects=0,
    )
    assert as_viewer.status == 403 and "may not approve or reject rollouts" in as_viewer.text()
    approver = still.sign_in(browser, "approver")
    forged = approver.request.post(
        f"{still.url}/rollouts/{workflow_id}/decision", form={"action": "approve"}, max_redirects=0
    )  # no CSRF token
    assert forged.status == 403 and "did not come from your console session" in forged.text()
    assert _api(still, "viewer", f"/api/v1/workflows/{workflow_id}")["status"] == "awaiting_approval"


def test_an_approver_approves_and_watches_the_waves_arrive(browser: Browser, moving: Console) -> None:
    started = httpx.post(
        f"{moving.url}/api/v1/workflows",
        json={"kind": "spot_migration", "max_changes": 6},
        headers={"Authorization": f"Bearer {moving.keys['operator']}"},
        timeout=60,
    )
    workflow_id = started.json()["workflow_id"]
    page = moving.sign_in(browser, "approver")
    _go(page, "Rollouts")
    page.get_by_role("link", name=workflow_id).click()
    expect(page.get_by_role("heading", name="Waiting for approval")).to_be_visible(timeout=60_000)
    assert (
        page.evaluate("() => [...document.querySelectorAll('#reviews tbody tr')].length") == 3
    )  # the performance, resource and application agents
    page.get_by_label("Comment (optional)").fill("fine by me")
    page.get_by_role("button", name="Approve all").click()
    expect(page.locator("#progress li.live").first).to_be_visible(timeout=60_000)  # over SSE, not the page
    expect(page.locator("#waves tr#wave-1")).to_be_visible(timeout=60_000)  # a wave's row, as it starts
    moving.shot(page, "rollout-live")
    expect(page.locator("#report")).to_be_visible(timeout=120_000)
    expect(page.locator("#status")).to_have_text("completed")
    assert page.locator("#waves tbody tr").count() == 3
    assert page.locator("#waves .verdict").all_inner_texts() == ["healthy"] * 3
    audit = page.locator("#audit").text_content() or ""  # folded away when long
    assert "approver-key" in audit and "fine by me" in audit
    moving.shot(page, "rollout-completed")


def test_the_fleet_pages_and_an_instance_is_charted(browser: Browser, still: Console) -> None:
    page = still.sign_in(browser, "viewer")
    _go(page, "Fleet")
    api = _api(still, "viewer", "/api/v1/instances", provider="aws", limit=50)
    page.get_by_label("Cloud").select_option("aws")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#fleet-total")).to_have_text(f"{api['total']} instances match.")
    rows = page.locator("#fleet tbody tr")
    assert rows.count() == 50
    assert rows.first.locator("td").first.inner_text() == api["items"][0]["id"]  # type: ignore[index]
    page.get_by_role("link", name="Next").click()
    expect(page.locator(".pager .muted")).to_have_text(f"51–100 of {api['total']}")
    still.shot(page, "fleet")
    page.locator("#fleet tbody a").first.click()
    expect(page.locator("canvas[data-chart]")).to_have_count(3)
    assert page.evaluate(DRAWN)
    still.shot(page, "instance")


def test_chat_keeps_its_thread_and_budgets_anomalies_notifications_render(
    browser: Browser, still: Console
) -> None:
    page = still.sign_in(browser, "operator")
    _go(page, "Chat")
    expect(page).to_have_url(re.compile(r"/chat\?thread=t-"))
    page.get_by_label("Your message").fill("what did we spend on gcp in the last 7 days?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#chat-log .bot").first).to_contain_text("GCP, last 7 days:")
    page.get_by_label("Your message").fill("set a budget of 20k for ml, alert me at 80 %")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#chat-log .bot").nth(1)).to_contain_text("Budget ml set")
    page.reload()  # the thread is kept
    expect(page.locator("#chat-log .bot")).to_have_count(2)
    still.shot(page, "chat")
    _go(page, "Budgets")
    expect(page.locator("#budgets tbody tr#ml")).to_contain_text("team=ml")
    still.shot(page, "budgets")
    for name, heading in (("Anomalies", "Cost anomalies"), ("Notifications", "Notifications")):
        _go(page, name)
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        still.shot(page, name.lower())


def test_signing_out_ends_the_session_everywhere(browser: Browser, still: Console) -> None:
    page = still.sign_in(browser, "viewer")
    cookie = next(c for c in page.context.cookies() if c["name"] == "optiinfra_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    replayed = httpx.get(f"{still.url}/", cookies={"optiinfra_session": cookie["value"]}, timeout=30)
    assert replayed.status_code == 303 and replayed.headers["location"].startswith("/login")
    docs = page.context.request.get(f"{still.url}/docs")  # offline: its assets are served here
    assert docs.ok and "/docs-static/swagger-ui-bundle.js" in docs.text()
    assert page.context.request.get(f"{still.url}/docs-static/swagger-ui-bundle.js").ok
