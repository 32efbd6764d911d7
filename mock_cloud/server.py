"""The simulator over HTTP (FastAPI), so agents can work against a cloud in another process.

Every refusal is JSON `{"error": {"code", "message", "retryable"}}` with a 4xx status (404 unknown id,
409 wrong state, 422 bad input, 429 throttled) or 503 for an injected outage; never a stack trace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Body, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mock_cloud.arm import create_arm_app
from mock_cloud.catalog import Provider, check_provider, load_catalog
from mock_cloud.clock import SimClock
from mock_cloud.errors import InvalidParameterValue, SimulatorError
from mock_cloud.faults import CostSpike, FaultRule, cost_spike
from mock_cloud.gce import create_gce_app
from mock_cloud.identity import create_google_token_app, create_identity_app
from mock_cloud.monitoring import serve_monitoring
from mock_cloud.schemas import (
    AdvanceRequest,
    ApplicationOut,
    ClockOut,
    CostsOut,
    CostSpikeIn,
    DegradationIn,
    ErrorResponse,
    EventOut,
    FaultRuleIn,
    FaultsIn,
    FaultsOut,
    InstanceOut,
    InstancePage,
    MetricsOut,
    MigrateRequest,
    MigrationOut,
    OfferingOut,
    PricePoint,
    QualityOut,
    ResetOut,
    ResetRequest,
    ResizeRequest,
    TagRequest,
    TargetQualityOut,
    UtilisationSummaryOut,
    utc,
)
from mock_cloud.simulator import CloudSimulator
from mock_cloud.storage_routes import storage_router

log = logging.getLogger("mock_cloud.server")
T = TypeVar("T")

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=128, description="Same key, same result, no second change"),
]
InstanceId = Annotated[str, Path(min_length=1, max_length=64)]
_ERRORS: dict[int | str, dict[str, object]] = {
    404: {
        "model": ErrorResponse,
        "description": "Unknown instance, application, volume, snapshot or address",
    },
    409: {"model": ErrorResponse, "description": "The instance or resource is in the wrong state"},
    422: {"model": ErrorResponse, "description": "Invalid input"},
    429: {"model": ErrorResponse, "description": "Throttled (injected fault)"},
    503: {"model": ErrorResponse, "description": "Capacity or service outage (injected fault)"},
}


class SimulatorHost:
    """Holds the simulator a server serves; `POST /reset` swaps in a new one on the same clock speed."""

    def __init__(self, simulator: CloudSimulator) -> None:
        self.simulator = simulator

    def reset(self, seed: int, size: int, provider_mix: dict[Provider, float] | None) -> CloudSimulator:
        speed = self.simulator.clock.speed
        self.simulator = CloudSimulator(seed, size, provider_mix=provider_mix, clock=SimClock(speed=speed))
        return self.simulator


def _error(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    headers = {"Retry-After": "1"} if status in (429, 503) else None
    return JSONResponse(
        {"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers
    )


def create_app(simulator: CloudSimulator | None = None, monitoring_port: int | None = None) -> FastAPI:
    """The simulator's HTTP API, with Azure Resource Manager's dialect under /subscriptions, Compute
    Engine's under /compute/v1 and, given `monitoring_port`, Cloud Monitoring's gRPC service on that port."""
    host = SimulatorHost(simulator or CloudSimulator())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if monitoring_port is None:
            yield
            return
        # In the server's own event loop, so gRPC and HTTP calls never touch the simulator at once.
        grpc_server = await serve_monitoring(lambda: host.simulator, monitoring_port)
        try:
            yield
        finally:
            await grpc_server.stop(grace=1)

    app = FastAPI(
        title="OptiInfra cloud simulator",
        description="A deterministic AWS/GCP/Azure simulator: lifecycle, metrics, spot, faults and costs.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.host = host

    @app.exception_handler(SimulatorError)
    async def simulator_error(_: Request, exc: SimulatorError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, retryable=exc.retryable)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "location": [str(part) for part in e.get("loc", ())],
                "message": e.get("msg", "") + _got(e.get("input")),
                "type": e.get("type"),
            }
            for e in exc.errors()
        ]
        summary = "; ".join(f"{'.'.join(d['location'])}: {d['message']}" for d in details)
        return _error(
            422, "InvalidParameterValue", summary or "invalid request", retryable=False, details=details
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        return _error(exc.status_code, code, str(exc.detail), retryable=False)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error in the simulator server")
        return _error(500, "InternalError", "The simulator failed unexpectedly; see its log", retryable=False)

    @app.middleware("http")
    async def cloud_date(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Every answer is dated by the simulated clock, as a cloud dates its answers by its own: clients
        # that take the cloud's time from its Date header (as SDKs do to correct clock skew) see the
        # simulator's. (Serve with uvicorn's own Date header off.)
        response = await call_next(request)
        response.headers["Date"] = format_datetime(
            datetime.fromtimestamp(host.simulator.now(), UTC), usegmt=True
        )
        return response

    app.include_router(_routes(host), responses=_ERRORS)
    app.include_router(storage_router(lambda call: _with_latency(host, call), _parse_tags), responses=_ERRORS)
    # Azure Resource Manager's and Compute Engine's dialects, for their SDKs (mock_cloud.arm, .gce).
    app.mount("/subscriptions", create_arm_app(lambda: host.simulator))
    app.mount("/compute/v1", create_gce_app(lambda: host.simulator))
    app.mount("/msi", create_identity_app())  # tokens for DefaultAzureCredential (mock_cloud.identity)
    app.mount("/oauth2", create_google_token_app())  # and for Application Default Credentials
    return app


def _got(value: object) -> str:
    """What the client sent, when it is short enough to echo back."""
    if isinstance(value, str | int | float | bool) and len(repr(value)) <= 64:
        return f" (got {value!r})"
    return ""


async def _with_latency(host: SimulatorHost, call: Callable[[CloudSimulator], T]) -> T:
    """Run a simulator call; with a running clock, make the caller wait the call's injected latency, and
    hold a slow answer (the call has taken effect) for its wall seconds."""
    sim = host.simulator
    result = call(sim)
    wait = sim.last_answer_hold + (sim.last_latency / sim.clock.speed if sim.clock.speed else 0.0)
    if wait:
        await asyncio.sleep(wait)
    return result


def _parse_tags(tags: list[str]) -> dict[str, str]:
    parsed = {}
    for tag in tags:
        key, sep, value = tag.partition("=")
        if not sep or not key:
            raise InvalidParameterValue(f"tag filters are key=value, got '{tag}'")
        parsed[key] = value
    return parsed


def _timestamp(moment: datetime) -> float:
    """Seconds since the epoch; a moment without a zone is UTC, as the simulator's clock is."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _routes(host: SimulatorHost) -> APIRouter:  # noqa: C901 - one closure per route keeps them together
    router = APIRouter()

    @router.get("/healthz", tags=["simulator"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/instances", response_model=InstancePage, tags=["instances"])
    async def list_instances(
        provider: Provider | None = None,
        region: Annotated[str | None, Query(max_length=64)] = None,
        state: Annotated[str | None, Query(max_length=32)] = None,
        pricing_model: Literal["on-demand", "spot", "reserved"] | None = None,
        application: Annotated[str | None, Query(max_length=128)] = None,
        tag: Annotated[list[str], Query(description="key=value; repeat to require several")] = [],  # noqa: B006
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> object:
        page = await _with_latency(
            host,
            lambda sim: sim.page_instances(
                provider=provider,
                region=region,
                state=state,
                pricing_model=pricing_model,
                tags=_parse_tags(tag),
                application=application,
                offset=offset,
                limit=limit,
            ),
        )
        return InstancePage(
            instances=[InstanceOut.model_validate(v) for v in page.instances],
            total=page.total,
            offset=offset,
            limit=limit,
        )

    @router.get("/instances/{instance_id}", response_model=InstanceOut, tags=["instances"])
    async def get_instance(instance_id: InstanceId) -> object:
        view = await _with_latency(host, lambda sim: sim.get_instance(instance_id))
        return InstanceOut.model_validate(view)

    def state_change(action: Literal["start", "stop", "terminate"]) -> Callable[..., Awaitable[object]]:
        async def change(instance_id: InstanceId, idempotency_key: IdempotencyKey = None) -> object:
            view = await _with_latency(host, lambda sim: getattr(sim, action)(instance_id, idempotency_key))
            return InstanceOut.model_validate(view)

        change.__doc__ = getattr(CloudSimulator, action).__doc__
        return change

    for action in ("start", "stop", "terminate"):
        router.add_api_route(
            f"/instances/{{instance_id}}/{action}",
            state_change(action),
            methods=["POST"],
            name=action,
            response_model=InstanceOut,
            tags=["lifecycle"],
        )

    @router.post("/instances/{instance_id}/resize", response_model=InstanceOut, tags=["lifecycle"])
    async def resize(
        instance_id: InstanceId, body: ResizeRequest, idempotency_key: IdempotencyKey = None
    ) -> object:
        view = await _with_latency(
            host, lambda sim: sim.resize(instance_id, body.instance_type, idempotency_key)
        )
        return InstanceOut.model_validate(view)

    @router.post("/instances/{instance_id}/tags", response_model=InstanceOut, tags=["instances"])
    async def tag(
        instance_id: InstanceId, body: TagRequest, idempotency_key: IdempotencyKey = None
    ) -> object:
        """Set and remove a machine's tags (EC2's CreateTags and DeleteTags in one call)."""
        view = await _with_latency(
            host, lambda sim: sim.tag(instance_id, body.tags, body.remove, idempotency_key)
        )
        return InstanceOut.model_validate(view)

    @router.post("/instances/{instance_id}/migrate", response_model=MigrationOut, tags=["lifecycle"])
    async def migrate(
        instance_id: InstanceId, body: MigrateRequest, idempotency_key: IdempotencyKey = None
    ) -> object:
        migration = await _with_latency(
            host, lambda sim: sim.migrate(instance_id, body.pricing_model, idempotency_key)
        )
        return MigrationOut.model_validate(migration, from_attributes=True)

    @router.post("/instances/{instance_id}/interrupt", response_model=InstanceOut, tags=["spot"])
    async def interrupt(instance_id: InstanceId) -> object:
        """Reclaim a running spot instance: the notice now, the interruption after the notice period."""
        return InstanceOut.model_validate(host.simulator.interrupt(instance_id))

    @router.get("/instances/{instance_id}/metrics", response_model=MetricsOut, tags=["observability"])
    async def metrics(
        instance_id: InstanceId,
        hours: Annotated[float, Query(gt=0, le=24 * 90)] = 24,
        period: Annotated[int, Query(description="60, 300, 900 or 3600 seconds")] = 3600,
    ) -> object:
        series = await _with_latency(host, lambda sim: sim.metrics(instance_id, hours, period))
        return MetricsOut.of(series)

    @router.get("/instances/{instance_id}/costs", response_model=list[PricePoint], tags=["costs"])
    async def instance_costs(
        instance_id: InstanceId, hours: Annotated[int, Query(gt=0, le=24 * 90)] = 24
    ) -> object:
        """Accrued cost (compute + storage) of one instance per hour."""
        hourly = host.simulator.instance_hourly_costs(instance_id, hours)
        return [PricePoint(timestamp=utc(t), amount=round(a, 6)) for t, a in hourly]

    @router.get("/metrics/summary", response_model=UtilisationSummaryOut, tags=["observability"])
    async def utilisation_summary(
        hours: Annotated[float, Query(gt=0, le=24 * 90)] = 14 * 24,
        percentile: Annotated[list[float], Query(description="Repeatable, 0-100")] = [95.0],  # noqa: B006
    ) -> object:
        """Every live instance's hourly CPU and memory percentiles, mean CPU and network, in one call."""
        usage = await _with_latency(host, lambda sim: sim.fleet_utilisation(hours, percentile))
        return UtilisationSummaryOut.of(usage)

    @router.get("/applications", response_model=list[ApplicationOut], tags=["applications"])
    async def applications() -> object:
        return [ApplicationOut.model_validate(a) for a in host.simulator.applications()]

    @router.get("/applications/{name}", response_model=ApplicationOut, tags=["applications"])
    async def application(name: Annotated[str, Path(max_length=128)]) -> object:
        return ApplicationOut.model_validate(host.simulator.application(name))

    @router.get("/applications/{name}/quality", response_model=QualityOut, tags=["applications"])
    async def quality(
        name: Annotated[str, Path(max_length=128)],
        minutes: Annotated[float, Query(gt=0, le=24 * 90 * 60)] = 60,
        step: Annotated[int, Query(ge=10, le=3600)] = 300,
    ) -> object:
        report = await _with_latency(host, lambda sim: sim.application_quality(name, minutes, step))
        return QualityOut.of(report)

    @router.get("/applications/{name}/targets", response_model=TargetQualityOut, tags=["applications"])
    async def targets(
        name: Annotated[str, Path(max_length=128)],
        minutes: Annotated[float, Query(gt=0, le=24 * 90 * 60)] = 60,
        step: Annotated[int, Query(ge=10, le=3600)] = 60,
        end: Annotated[datetime | None, Query(description="Default: now")] = None,
    ) -> object:
        """Each machine that served the application (replaced ones included), with its own p95 latency and
        error rate per `step` seconds: what a load balancer reports per target."""
        until = end.timestamp() if end is not None else None
        report = await _with_latency(host, lambda sim: sim.target_quality(name, minutes, step, until))
        return TargetQualityOut.of(report, step)

    @router.get("/catalog", response_model=list[OfferingOut], tags=["catalog"])
    async def catalog(
        provider: Provider | None = None,
        region: Annotated[str | None, Query(max_length=64)] = None,
        gpu: bool | None = None,
    ) -> object:
        """Instance types with on-demand, spot and reserved prices per hour (USD) in one region."""
        if provider is None and region is not None:
            raise InvalidParameterValue("region needs provider")
        providers: tuple[Provider, ...] = (provider,) if provider else ("aws", "gcp", "azure")
        return [o.to_dict() for p in providers for o in load_catalog().offerings(p, region, gpu)]

    @router.get("/spot-prices", response_model=list[PricePoint], tags=["spot"])
    async def spot_prices(
        provider: Provider,
        region: Annotated[str, Query(max_length=64)],
        instance_type: Annotated[str, Query(max_length=64)],
        hours: Annotated[int, Query(gt=0, le=24 * 90)] = 24,
    ) -> object:
        check_provider(provider)
        history = host.simulator.spot_price_history(provider, region, instance_type, hours)
        return [PricePoint(timestamp=utc(t), amount=round(p, 6)) for t, p in history]

    @router.get("/costs", response_model=CostsOut, tags=["costs"])
    async def costs(
        group_by: Annotated[
            str | None,
            Query(
                max_length=64,
                description="provider|service|region|day|instance_type|pricing_model|application|instance|tag:<key>",
            ),  # fmt: skip
        ] = None,
        days: Annotated[float, Query(gt=0, le=90)] = 30,
        until: Annotated[
            datetime | None, Query(description="End of the window (ISO 8601; default now): `days` before it")
        ] = None,
        provider: Provider | None = None,
        region: Annotated[str | None, Query(max_length=64)] = None,
        application: Annotated[str | None, Query(max_length=128)] = None,
        tag: Annotated[list[str], Query(description="key=value; repeat to require several")] = [],  # noqa: B006
        daily: Annotated[bool, Query(description="Each group's amount per UTC day too")] = False,
    ) -> object:
        """Accrued cost over the `days` before `until` (default: now) of the instances matching every filter;
        the groups add up to the total (without group_by and with daily, one group "total")."""
        sim = host.simulator
        end = sim.now() if until is None else _timestamp(until)
        report = await _with_latency(
            host,
            lambda s: s.costs(
                group_by,
                start=end - days * 86400.0,
                end=end,
                provider=provider,
                region=region,
                application=application,
                tags=_parse_tags(tag),
                daily=daily,
            ),
        )
        return CostsOut.of(report)

    @router.get("/faults", response_model=FaultsOut, tags=["simulator"])
    async def get_faults() -> object:
        faults = host.simulator.faults
        degradation = faults.degradation
        return FaultsOut(
            rules={op: FaultRuleIn(**vars(rule)) for op, rule in faults.rules.items()},
            degradation=DegradationIn(
                latency_factor=degradation.latency_factor, error_rate_increase=degradation.error_rate_increase
            )
            if degradation
            else None,
            cost_spikes=[_spike_out(spike) for spike in faults.cost_spikes],
        )

    @router.post("/faults", response_model=FaultsOut, tags=["simulator"])
    async def set_faults(body: FaultsIn) -> object:
        """Replace the injected faults (an empty body clears them)."""
        degradation = (
            (body.degradation.latency_factor, body.degradation.error_rate_increase)
            if body.degradation
            else None
        )
        spikes = [
            cost_spike(
                _timestamp(spike.start), _timestamp(spike.end), spike.factor, provider=spike.provider,
                region=spike.region, application=spike.application, tags=spike.tags,
                instance_ids=spike.instance_ids,
            )
            for spike in body.cost_spikes
        ]  # fmt: skip
        host.simulator.set_faults(
            {op: FaultRule(**rule.model_dump()) for op, rule in body.rules.items()}, degradation, spikes
        )
        return FaultsOut(
            rules=body.rules, degradation=body.degradation, cost_spikes=[_spike_out(s) for s in spikes]
        )

    @router.delete("/faults", response_model=FaultsOut, tags=["simulator"])
    async def clear_faults() -> object:
        host.simulator.clear_faults()
        return FaultsOut(rules={}, degradation=None)

    @router.get("/clock", response_model=ClockOut, tags=["simulator"])
    async def clock() -> object:
        return ClockOut(now=utc(host.simulator.now()), speed=host.simulator.clock.speed)

    @router.post("/clock/advance", response_model=ClockOut, tags=["simulator"])
    async def advance(body: AdvanceRequest) -> object:
        now = host.simulator.advance(body.seconds)
        return ClockOut(now=utc(now), speed=host.simulator.clock.speed)

    @router.post("/reset", response_model=ResetOut, tags=["simulator"])
    async def reset(body: Annotated[ResetRequest, Body()] = ResetRequest()) -> object:  # noqa: B008
        """Start over with a new fleet (`seed`, `size`); the clock returns to its start."""
        sim = await asyncio.to_thread(host.reset, body.seed, body.size, body.provider_mix)
        return ResetOut(
            seed=sim.seed, size=sim.size, applications=len(sim.applications()), now=utc(sim.now())
        )

    @router.get("/events", response_model=list[EventOut], tags=["simulator"])
    async def events(since: Annotated[float | None, Query(description="unix seconds")] = None) -> object:
        return [
            EventOut(time=utc(e.time), kind=e.kind, instance_id=e.instance_id, detail=e.detail)
            for e in host.simulator.events(since)
        ]

    return router


def _spike_out(spike: CostSpike) -> CostSpikeIn:
    return CostSpikeIn(
        start=utc(spike.start), end=utc(spike.end), factor=spike.factor, provider=spike.provider,
        region=spike.region, application=spike.application, tags=dict(spike.tags),
        instance_ids=list(spike.instance_ids),
    )  # fmt: skip
