"""The FastAPI app: routes under /api/v1, problem+json errors, API keys, metrics, background workflows."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel

from api import console
from api.clouds import open_cloud, shared_address
from api.service import problems
from api.service.metrics import CountedCloud, ServiceMetrics
from api.service.routes import ROUTERS
from api.service.runner import WorkflowRunner
from api.service.scheduler import Scheduler
from api.service.security import BodyLimit, Guard
from api.service.settings import ServiceSettings
from graphs.finops import FinOps
from graphs.rollout.authority import DecisionRules
from graphs.rollout.workflow import open_rollouts
from graphs.service_store import ServiceStore
from graphs.supervisor.chat import open_chat
from tools.provider import CloudProvider


def make_cloud(settings: ServiceSettings) -> tuple[CloudProvider, str | None]:
    """The cloud the settings name, and its address when other processes reach it too (None for the
    in-process simulator)."""
    return open_cloud(settings.cloud, settings.seed, settings.size), shared_address(settings.cloud)


def create_app(
    settings: ServiceSettings | None = None,
    cloud: CloudProvider | None = None,
    model: BaseChatModel | None = None,
    sweep: bool = True,
) -> FastAPI:
    """The service. `cloud` and `model` default to what `settings` name; `sweep=False` runs no background
    duty — no adopting orphaned workflows, no scheduled FinOps (tests that drive them by hand)."""
    settings = settings or ServiceSettings()
    metrics = ServiceMetrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        base, cloud_url = (cloud, shared_address(settings.cloud)) if cloud else make_cloud(settings)
        counted: Any = CountedCloud(base, metrics, serial=cloud_url is None)
        rules = DecisionRules(settings.distinct_approver, settings.approval_policy)
        async with (
            open_rollouts(settings.db, counted, rules=rules, public_url=settings.public_url) as rollouts,
            open_chat(
                settings.db,
                counted,
                model,
                rollouts=rollouts,
                cloud_url=cloud_url,
                model_timeout=settings.llm_timeout,
            ) as chat,
        ):
            runner = WorkflowRunner(rollouts, settings.replica, settings.lease_seconds, cloud_url)
            chat.context.hold = runner.held  # rollouts a chat turn drives are leased like the rest
            # Workflows FinOps starts (a budget's action) or ends (an expired request) run in the background.
            finops = FinOps(rollouts, drive=runner.start, cloud_url=cloud_url)
            scheduler = Scheduler(finops, ServiceStore(rollouts.db), settings.replica, settings.sweep_seconds,
                                  settings.finops_seconds)  # fmt: skip
            app.state.settings = settings
            app.state.metrics = metrics
            app.state.cloud = counted
            app.state.cloud_url = cloud_url
            app.state.rollouts = rollouts
            app.state.chat = chat
            app.state.runner = runner
            app.state.finops = finops
            app.state.scheduler = scheduler
            console.start(app, counted)
            app.state.guard = Guard(
                ServiceStore(rollouts.db), settings.auth, settings.rate_per_minute, settings.key_trust_seconds
            )
            duties = (
                [asyncio.create_task(runner.sweep_forever(settings.sweep_seconds)),
                 asyncio.create_task(scheduler.run_forever())]
                if sweep else []
            )  # fmt: skip
            try:
                yield
            finally:
                for duty in duties:
                    duty.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await duty
                if duties:
                    await scheduler.close()
                await runner.close()

    app = FastAPI(
        docs_url=None,  # served offline by the console (api.console)
        redoc_url=None,
        title="OptiInfra",
        version="0.1.0",
        description="Safe cloud cost optimisation: chat, approval-gated rollouts, cloud views. Errors are "
        "application/problem+json; every /api/v1 route takes `Authorization: Bearer <API key>`.",
        lifespan=lifespan,
    )
    problems.install(app)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    # Added last, so outermost: it counts what BodyLimit refuses (413) as well as what the routes answer.
    app.add_middleware(metrics.middleware)
    for router in ROUTERS:
        app.include_router(router)
    console.install(app)

    return app
