"""The FinOps loop, one check for every way in: budgets against the bill (each threshold new once a period,
its alert sent and its action started by whoever sees it first), cost anomalies (each new spike told once),
approval requests against their deadlines, notifications due for a retry, and the off-hours schedules kept.

The service's scheduler runs `check` on one replica at a time; `optiinfra finops check` runs it from cron;
the budget and anomaly routes and commands run their part of it. However many of them run, the database
decides what is new, so nothing is sent or started twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta

from pydantic import BaseModel, Field

from graphs.anomaly_store import AnomalyStore
from graphs.budget_store import BudgetStore, StoredBudget
from graphs.notification_store import Delivery
from graphs.off_hours import DUTY as OFF_HOURS_DUTY
from graphs.off_hours import ScheduleRun, keep_schedules
from graphs.rollout.authority import Caller
from graphs.rollout.deadlines import DeadlineEvent, watch_deadlines
from graphs.rollout.models import RolloutSettings, Scope
from graphs.rollout.workflow import RolloutError, Rollouts
from graphs.service_store import ServiceStore
from tools.analysis.budgets import BudgetStatus, status
from tools.analysis.root_cause import FoundAnomaly, find_anomalies, scope_of
from tools.channels.notice import Notice, Severity
from tools.errors import ProviderError
from tools.models import InstanceFilter

log = logging.getLogger("optiinfra.finops")
_SEVERITY: dict[str, Severity] = {"low": "info", "medium": "warning", "high": "critical"}
Drive = Callable[[str], Awaitable[object]]
HISTORY_DAYS = 90  # of daily costs the anomaly detector reads


class BudgetCheck(BaseModel):
    status: BudgetStatus
    new: list[str] = Field(description="Thresholds crossed for the first time this period, by this check")
    action_workflow_id: str | None = Field(None, description="The rollout this check's action started")
    action_error: str | None = Field(None, description="Why the action could not start")


class AnomalyCheck(BaseModel):
    found: list[FoundAnomaly]
    opened: list[str] = Field(description="Keys of the anomalies this check found first")


class FinOpsReport(BaseModel):
    budgets: list[BudgetCheck]
    anomalies: AnomalyCheck
    deadlines: list[DeadlineEvent]
    deliveries: list[Delivery] = Field(description="Retries this check made, and how each went")
    schedules: ScheduleRun | None = Field(
        None, description="The off-hours schedules' stops and starts since the last check"
    )


class FinOps:
    """The checks, on the rollouts' database and cloud. `drive` carries a workflow on (a budget's action
    to its approval request, an expired request to its end): in the foreground by default, in the
    service's background there."""

    def __init__(self, rollouts: Rollouts, drive: Drive | None = None, cloud_url: str | None = None) -> None:
        if rollouts.cloud is None:
            raise ValueError("FinOps checks read the bill: they need a cloud")
        self.rollouts = rollouts
        self.cloud = rollouts.cloud
        self.budgets = BudgetStore(rollouts.db)
        self.anomalies = AnomalyStore(rollouts.db)
        self.notifier = rollouts.notifier
        self.marks = ServiceStore(rollouts.db)
        self.drive: Drive = drive or rollouts.resume
        self.cloud_url = cloud_url

    async def check(self, anomaly_days: int = 7) -> FinOpsReport:
        return FinOpsReport(
            budgets=await self.check_budgets(),
            anomalies=await self.check_anomalies(anomaly_days),
            deadlines=await self.watch_approvals(),
            deliveries=await self.notifier.deliver_due(),
            schedules=await self.keep_schedules(),
        )

    # -- off-hours schedules ----------------------------------------------------------------------------
    async def keep_schedules(self) -> ScheduleRun | None:
        """The stops and starts the machines' schedules called for since the last run (on any replica);
        None on the first run ever, which starts keeping them from now."""
        now = await asyncio.to_thread(self.cloud.now)
        since = await self.marks.done_through(OFF_HOURS_DUTY)
        if since is not None and now <= since:  # kept through now already (or a cloud whose clock went back)
            return ScheduleRun(since=since, until=now)
        run = None if since is None else await asyncio.to_thread(keep_schedules, self.cloud, since, now)
        await self.marks.mark_done(OFF_HOURS_DUTY, now)
        for change in run.changes if run else []:
            if change.ok:
                log.info(
                    "off-hours: %s %s for the boundary at %s", change.action, change.instance_id, change.at
                )
            else:
                log.warning("off-hours: could not %s %s: %s", change.action, change.instance_id, change.note)
        for problem in run.problems if run else []:
            log.warning("off-hours: %s", problem)
        return run

    # -- budgets ----------------------------------------------------------------------------------------
    async def check_budgets(self, names: list[str] | None = None) -> list[BudgetCheck]:
        """Every budget's standing now (or those named); a threshold crossed first by this check is
        recorded, told, and starts the budget's action when it is the action's threshold."""
        chosen = [await self.budgets.get(n) for n in names] if names else await self.budgets.budgets()
        return [await self._check_budget(s) for s in chosen]

    async def _check_budget(self, stored: StoredBudget) -> BudgetCheck:
        found = await asyncio.to_thread(status, self.cloud, stored.budget)
        now = await asyncio.to_thread(self.cloud.now)
        checked = BudgetCheck(status=found, new=await self.budgets.record(found))
        action = stored.budget.action
        if action is not None and action.threshold in checked.new:
            try:
                checked.action_workflow_id = await self._start_action(stored, found)
            except (RolloutError, ProviderError) as exc:
                checked.action_error = str(exc)
                log.warning("budget %s: its action did not start: %s", stored.budget.name, exc)
        for key in checked.new:
            await self.notifier.publish(budget_notice(stored, found, key, checked, now))
        return checked

    async def _start_action(self, stored: StoredBudget, found: BudgetStatus) -> str:
        budget = stored.budget
        assert budget.action is not None
        scope = Scope(provider=budget.scope.provider, region=budget.scope.region,
                      application=budget.scope.application, tags=budget.scope.tags)  # fmt: skip
        settings = RolloutSettings(auto_approve=False, max_changes=budget.action.max_changes)
        caller = Caller(f"budget {budget.name}", "operator")
        workflow_id = await self.rollouts.register(
            budget.action.kind, scope, settings, caller=caller, cloud_url=self.cloud_url
        )
        await self.budgets.set_action(found, budget.action.threshold, workflow_id)
        await self.drive(workflow_id)  # plans and reviews it; it then waits for a person
        return workflow_id

    # -- anomalies --------------------------------------------------------------------------------------
    async def check_anomalies(self, days: int = 7) -> AnomalyCheck:
        """Run the detector over the bill; what it finds is kept, and each new spike is told once."""
        found = await asyncio.to_thread(find_anomalies, self.cloud, HISTORY_DAYS, days)
        opened = await self.anomalies.record(found)
        new = set(opened)
        for anomaly in found:
            if anomaly.key in new and anomaly.kind == "spike":  # new spend is growth someone decided on
                await self.notifier.publish(anomaly_notice(anomaly))
        return AnomalyCheck(found=found, opened=opened)

    # -- approvals --------------------------------------------------------------------------------------
    async def watch_approvals(self) -> list[DeadlineEvent]:
        """Deadlines near, passed (escalated) and missed (expired: each such workflow is driven to its end,
        with nothing changed)."""
        now = await asyncio.to_thread(self.cloud.now)
        events = await watch_deadlines(self.rollouts, now)
        for expired in (e for e in events if e.event == "expired"):
            await self.drive(expired.workflow_id)
        return events


def budget_notice(
    stored: StoredBudget, found: BudgetStatus, key: str, checked: BudgetCheck, at: datetime
) -> Notice:
    budget = stored.budget
    fired = next(f for f in found.fired if f.key == key)
    severity: Severity = "info"
    if fired.basis == "forecast" or fired.percent >= 80:
        severity = "warning"
    if fired.basis == "actual" and fired.percent >= 100:
        severity = "critical"
    what = "spent" if fired.basis == "actual" else "forecast to spend"
    text = f"Budget {budget.name} has {what} {fired.percent:g} % of its amount. {found.summary([key])}."
    action = None
    if checked.action_workflow_id:
        text += (
            f" Its action started a {budget.action.kind.replace('_', ' ') if budget.action else ''} "
            f"({checked.action_workflow_id}), which waits for your approval."
        )
        action = f"optiinfra workflow approve {checked.action_workflow_id} --by NAME"
    elif checked.action_error:
        text += f" Its action could not start: {checked.action_error}."
    return Notice(
        key=f"budget_threshold/{budget.name}/{found.period_start.isoformat()}/{key}",
        event="budget_threshold",
        severity=severity,
        title=f"Budget {budget.name}: {fired.percent:g} % {fired.basis} crossed",
        text=text,
        at=at,
        scope=budget.scope,
        link=f"/api/v1/budgets/{budget.name}",
        action=action,
        facts={"budget": budget.name, "threshold": key, "amount_usd": found.amount,
               "spent_usd": found.spent_usd, "forecast_usd": found.forecast_usd,
               "action_workflow_id": checked.action_workflow_id},
    )  # fmt: skip


def anomaly_notice(anomaly: FoundAnomaly) -> Notice:
    severity = _SEVERITY[anomaly.severity]
    drivers = ", ".join(c.key for c in anomaly.root_cause.instances[:3])
    days = anomaly.start.isoformat() + (
        "" if anomaly.end == anomaly.start else f" to {anomaly.end.isoformat()}"
    )
    text = (
        f"{anomaly.dimension} {anomaly.value} cost {anomaly.actual_usd:,.2f} USD on {days} against "
        f"{anomaly.expected_usd:,.2f} expected (+{anomaly.impact_usd:,.2f}, +{anomaly.impact_pct:.0f} %)."
        + (f" Most of the extra ran on {drivers}." if drivers else "")
    )
    return Notice(
        key=f"anomaly_opened/{anomaly.key}",
        event="anomaly_opened",
        severity=severity,
        title=f"Cost anomaly: {anomaly.dimension} {anomaly.value} +{anomaly.impact_pct:.0f} %",
        text=text,
        at=datetime.combine(anomaly.end + timedelta(days=1), time(), UTC),
        scope=_anomaly_scope(anomaly),
        link=f"/api/v1/anomalies/{anomaly.key}",
        action=f"optiinfra anomalies ack '{anomaly.key}' --by NAME",
        facts={"key": anomaly.key, "impact_usd": anomaly.impact_usd, "impact_pct": anomaly.impact_pct,
               "severity": anomaly.severity},
    )  # fmt: skip


def _anomaly_scope(anomaly: FoundAnomaly) -> InstanceFilter:
    """The series' part of the fleet, and the team that ran up most of its extra when the series is not a
    team's: a channel for the ml team hears of an ml application's spike."""
    scope = scope_of(anomaly.dimension, anomaly.value) or InstanceFilter()
    teams = anomaly.root_cause.dimensions.get("tag:team", [])
    if "team" not in scope.tags and teams and teams[0].extra_usd >= 0.5 * anomaly.impact_usd:
        scope = scope.model_copy(update={"tags": {**scope.tags, "team": teams[0].key}})
    return scope
