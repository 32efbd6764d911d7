"""Prometheus metrics: requests and their latency, workflows by status, cloud calls and errors, and which
router decided chat turns. One registry per app, so several apps in one process (tests) stay apart."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request, Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from graphs.database import Database
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

    async def middleware(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        # The route's template (`/api/v1/workflows/{workflow_id}`), not the path: ids would swell the labels.
        route = getattr(request.scope.get("route"), "path", "unmatched")
        self.requests.labels(request.method, route, str(response.status_code)).inc()
        self.latency.labels(request.method, route).observe(time.perf_counter() - started)
        return response

    async def exposition(self, db: Database) -> Response:
        counts: dict[str, int] = {}
        for run in await db.runs():
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
        self._lock = threading.RLock() if serial else contextlib.nullcontext()

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
