"""What routes depend on, as `Annotated` aliases: the service's parts (kept on the app's state by its
lifespan) and the caller, checked for what the route does (the domain's rule: graphs.rollout.authority)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.service.metrics import CountedCloud
from api.service.runner import WorkflowRunner
from api.service.security import Caller, require
from graphs.finops import FinOps
from graphs.notifier import Notifier
from graphs.rollout.workflow import Rollouts
from graphs.supervisor.chat import Chat
from tools.provider import CloudProvider


def _rollouts(request: Request) -> Rollouts:
    rollouts: Rollouts = request.app.state.rollouts
    return rollouts


def _runner(request: Request) -> WorkflowRunner:
    runner: WorkflowRunner = request.app.state.runner
    return runner


def _cloud(request: Request) -> CloudProvider:
    cloud: CloudProvider = request.app.state.cloud
    return cloud


def _counted(request: Request) -> CountedCloud:
    counted: CountedCloud = request.app.state.cloud
    return counted


def _chat(request: Request) -> Chat:
    chat: Chat = request.app.state.chat
    return chat


def _finops(request: Request) -> FinOps:
    finops: FinOps = request.app.state.finops
    return finops


def _notifier(request: Request) -> Notifier:
    return _rollouts(request).notifier


RolloutsDep = Annotated[Rollouts, Depends(_rollouts)]
RunnerDep = Annotated[WorkflowRunner, Depends(_runner)]
CloudDep = Annotated[CloudProvider, Depends(_cloud)]
# The same cloud, with its `quick` path for bounded in-memory reads (a page of instances).
CountedCloudDep = Annotated[CountedCloud, Depends(_counted)]
ChatDep = Annotated[Chat, Depends(_chat)]
FinOpsDep = Annotated[FinOps, Depends(_finops)]
NotifierDep = Annotated[Notifier, Depends(_notifier)]

Reader = Annotated[Caller, Depends(require("read"))]
Starter = Annotated[Caller, Depends(require("start"))]
Manager = Annotated[Caller, Depends(require("manage"))]
Decider = Annotated[Caller, Depends(require("decide"))]
