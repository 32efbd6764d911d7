"""Prometheus metrics: requests and their latency, workflows by status, cloud calls and errors, and which
router decided chat turns. One registry per app, so several apps in one process (tests) stay apart."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any

from fastapi import Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphs.rollout.store import RolloutStore
from tools.errors import ProviderError


class ServiceMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "optiinfra_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "optiinfra_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.workflows = Gauge(
            "optiinfra_workflows", "Workflows by status", ["status"], registry=self.registry
        )
        self.cloud_calls = Counter(
            "optiinfra_cloud_calls", "Cloud API calls", ["operation"], registry=self.registry
        )
        self.cloud_errors = Counter(
            "optiinfra_cloud_errors",
            "Cloud API calls that failed",
            ["operation", "code"],
            registry=self.registry,
        )
        self.routes = Counter(
            "optiinfra_chat_routes", "Chat turns by route and deciding router", ["route", "source"],
            registry=self.registry,
        )  # fmt: skip

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Counts and times every HTTP request, as plain ASGI: Starlette's `BaseHTTPMiddleware` runs each
        request in a task group with memory streams, as much as a cheap route's own time."""

        async def measured(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 500  # what the client sees when the app fails before it answers

            async def sent(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            try:
                await app(scope, receive, sent)
            finally:
                # The route's template (`/api/v1/workflows/{workflow_id}`), not the path: ids would swell
                # the labels.
                route = getattr(scope.get("route"), "path", "unmatched")
                self.requests.labels(scope["method"], route, str(status)).inc()
                self.latency.labels(scope["method"], route).observe(time.perf_counter() - started)

        return measured

    async def exposition(self, store: RolloutStore) -> Response:
        counts: dict[str, int] = {}
        for run in await store.runs():
            counts[run.status] = counts.get(run.status, 0) + 1
        self.workflows.clear()
        for status, n in counts.items():
            self.workflows.labels(status).set(n)
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class CountedCloud:
    """A cloud provider whose calls are counted (and failures by error code); otherwise the same provider.

    With `serial`, one call at a time: the in-process simulator is not thread-safe, and the service calls
    the cloud from worker threads for concurrent requests.
    """

    def __init__(self, inner: Any, metrics: ServiceMetrics, serial: bool = False) -> None:
        self._inner = inner
        self._metrics = metrics
        self._serial = threading.RLock() if serial else None
        self._lock = self._serial or contextlib.nullcontext()

    async def quick(self, name: str, *args: Any) -> Any:
        """Call a bounded, in-memory operation (a page of instances) from the event loop: inline when the
        cloud is in this process and no worker thread holds it — the hop to a thread cost a fifth of such a
        request — else in a worker thread, so the loop never waits for another caller's lock."""
        method = getattr(self, name)
        if self._serial is not None and self._serial.acquire(blocking=False):
            try:
                return method(*args)
            finally:
                self._serial.release()
        return await asyncio.to_thread(method, *args)

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._inner, name)
        if not callable(found):
            return found
        metrics, lock = self._metrics, self._lock

        def counted(*args: Any, **kwargs: Any) -> Any:
            metrics.cloud_calls.labels(name).inc()
            try:
                with lock:
                    return found(*args, **kwargs)
            except ProviderError as exc:
                metrics.cloud_errors.labels(name, exc.code).inc()
                raise

        return counted
