"""Workflows in the service's background: each driven by one replica at a time, under a lease in the
database; their progress written to the database for anyone following them, from any replica.

A replica takes a workflow's lease before it drives it (starting, deciding, or adopting an orphan) and
renews it while it works. A replica that dies stops renewing; once the lease expires, another replica's
sweep adopts the workflow and resumes it from its last checkpoint, and the cloud calls it repeats replay
under their idempotency keys: every change is applied once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy.exc import SQLAlchemyError

from graphs.rollout.authority import Caller
from graphs.rollout.events import Progress, ProgressEvent, StatusChanged
from graphs.rollout.models import Decision
from graphs.rollout.workflow import RolloutError, RolloutRun, Rollouts, WorkflowFailedError
from graphs.service_store import ServiceStore

log = logging.getLogger("optiinfra.workflows")
# Stored statuses of a workflow some replica should be driving ("deciding": decision taken, not yet applied).
RESUMABLE = ("planning", "deciding", "rolling_out")
HANDOVER_SECONDS = 5.0  # how long a decision waits for the lease of a workflow that has just stopped


class WorkflowBusyError(RolloutError):
    """Another replica (or request) is driving this workflow right now."""


class WorkflowRunner:
    """Drives workflows in the background. Each drive holds the workflow's lease under an owner of its own
    (`<replica>/<token>`), so two requests on one replica exclude each other as two replicas do."""

    def __init__(
        self,
        rollouts: Rollouts,
        owner: str,
        lease_seconds: float,
        cloud_url: str | None,
    ) -> None:
        self.rollouts = rollouts
        self.leases = ServiceStore(rollouts.db)
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.cloud_url = cloud_url
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.holding: set[str] = set()  # driven in the foreground, by `held`

    def _token(self) -> str:
        return f"{self.owner}/{secrets.token_hex(4)}"

    async def start(self, workflow_id: str) -> None:
        """Drive a registered workflow in the background (unless another replica already adopted it)."""
        lease = self._token()
        if await self.leases.acquire_lease(workflow_id, lease, self.lease_seconds):
            self._spawn(workflow_id, lease, functools.partial(self.rollouts.resume, workflow_id))

    async def decide(self, workflow_id: str, decision: Decision, caller: Caller) -> Decision | None:
        """Take the pending approval's decision now (the first one sent wins: any other is refused with
        DecisionTakenError, on this replica or another) and carry the workflow on in the background. An
        approval that a plan needing several people has not enough of yet is recorded only (None)."""
        lease = await self._take(workflow_id)
        try:
            taken = await self.rollouts.take_decision(workflow_id, decision, caller)
        except BaseException:
            await self.leases.release_lease(workflow_id, lease)
            raise
        if taken is None:
            await self.leases.release_lease(workflow_id, lease)
            return None
        self._spawn(workflow_id, lease, functools.partial(self.rollouts.resume, workflow_id))
        return taken

    async def cancel(self, workflow_id: str, caller: Caller, rollback: bool) -> None:
        """Ask the workflow to stop; whoever drives it stops at the next step boundary, and one nobody
        drives (waiting for a person, or failed) is carried there in the background."""
        await self.rollouts.cancel(workflow_id, caller, rollback)
        if not self._driving(workflow_id):
            await self.start(workflow_id)  # a lease held elsewhere means another replica drives it

    @contextlib.asynccontextmanager
    async def held(self, workflow_id: str) -> AsyncIterator[None]:
        """Hold the workflow's lease while the caller drives it in the foreground (a chat turn that starts or
        decides a rollout), so that no sweep adopts it meanwhile."""
        lease = await self._take(workflow_id)
        self.holding.add(workflow_id)
        renewer = asyncio.create_task(self._renew(workflow_id, lease))
        try:
            yield
        finally:
            renewer.cancel()
            self.holding.discard(workflow_id)
            await self.leases.release_lease(workflow_id, lease)

    async def _take(self, workflow_id: str) -> str:
        """Take the lease; returns its owner. A workflow waiting for a person is driven by nobody, but the
        replica that brought it there may still hold its lease for the moment it takes to finish writing:
        that moment is waited out; past it, the workflow is busy."""
        lease = self._token()
        deadline = asyncio.get_running_loop().time() + HANDOVER_SECONDS
        while not await self.leases.acquire_lease(workflow_id, lease, self.lease_seconds):
            if asyncio.get_running_loop().time() > deadline:
                raise WorkflowBusyError(f"workflow {workflow_id} is being worked on; try again shortly")
            await asyncio.sleep(0.05)
        return lease

    def _driving(self, workflow_id: str) -> bool:
        return workflow_id in self.tasks or workflow_id in self.holding

    async def wait(self, workflow_id: str) -> None:
        """Until this replica stops driving the workflow (for tests and orderly shutdown)."""
        task = self.tasks.get(workflow_id)
        if task is not None:
            await asyncio.shield(task)

    async def sweep(self) -> list[str]:
        """Adopt the workflows no live replica is driving; returns their ids.

        Only on a shared cloud (a URL): an in-process simulator is each process's own, so a workflow begun
        on another one cannot be carried on against this one.
        """
        adopted: list[str] = []
        if self.cloud_url is None:
            return adopted
        for status in RESUMABLE:
            for run in await self.rollouts.store.runs(status=status):
                if self._driving(run.workflow_id) or run.cloud != self.cloud_url:
                    continue
                lease = self._token()
                if await self.leases.acquire_lease(run.workflow_id, lease, self.lease_seconds):
                    log.info(
                        "adopting workflow %s (%s)",
                        run.workflow_id,
                        status,
                        extra={"workflow_id": run.workflow_id},
                    )
                    work = functools.partial(self.rollouts.resume, run.workflow_id)
                    self._spawn(run.workflow_id, lease, work)
                    adopted.append(run.workflow_id)
        return adopted

    async def sweep_forever(self, interval: float) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:  # a database hiccup must not end the sweeping for good
                log.exception("sweep failed; trying again in %.0f s", interval)
            await asyncio.sleep(interval)

    async def close(self) -> None:
        """Stop driving: the leases are released, so another replica (or a restart) carries on at once."""
        for task in list(self.tasks.values()):
            task.cancel()
        for task in list(self.tasks.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _spawn(self, workflow_id: str, lease: str, work: Callable[[Progress], Awaitable[RolloutRun]]) -> None:
        self.tasks[workflow_id] = asyncio.create_task(
            self._drive(workflow_id, lease, work), name=f"workflow {workflow_id}"
        )

    async def _drive(
        self, workflow_id: str, lease: str, work: Callable[[Progress], Awaitable[RolloutRun]]
    ) -> None:
        queue: asyncio.Queue[ProgressEvent | None] = asyncio.Queue()
        writer = asyncio.create_task(self._write_events(workflow_id, queue))
        renewer = asyncio.create_task(self._renew(workflow_id, lease))
        try:
            run = await work(queue.put_nowait)
            queue.put_nowait(StatusChanged(status=run.status))
        except WorkflowFailedError as exc:  # said in its status, events and audit already
            log.warning("%s", exc, extra={"workflow_id": workflow_id})
        except Exception:
            log.exception("workflow %s stopped on an error; a resume carries it on", workflow_id,
                          extra={"workflow_id": workflow_id})  # fmt: skip
        finally:
            renewer.cancel()
            queue.put_nowait(None)
            self.tasks.pop(workflow_id, None)
            try:
                await asyncio.shield(writer)
                await self.leases.release_lease(workflow_id, lease)
            except (asyncio.CancelledError, SQLAlchemyError):
                # Shutting down in the middle of a step: the lease expires by itself and another replica
                # (or this one, restarted) resumes the workflow from its last checkpoint.
                log.warning("workflow %s left to its lease", workflow_id, extra={"workflow_id": workflow_id})

    async def _write_events(self, workflow_id: str, queue: asyncio.Queue[ProgressEvent | None]) -> None:
        """Events in the order they happened; whatever has queued up goes in one write."""
        done = False
        while not done:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            done = batch[-1] is None
            found = [e.model_dump(mode="json") for e in batch if e is not None]
            if found:
                await self.rollouts.store.add_events(workflow_id, found)

    async def _renew(self, workflow_id: str, lease: str) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            if not await self.leases.acquire_lease(workflow_id, lease, self.lease_seconds):
                log.error("lost the lease of workflow %s", workflow_id, extra={"workflow_id": workflow_id})
