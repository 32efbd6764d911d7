"""One error shape for every failure: RFC 9457 `application/problem+json` (type, title, status, detail).

Client mistakes are 4xx with what was wrong; anything unexpected is a bare 500 with no detail, logged here
with its trace for the operator, never sent to the client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from graphs.rollout.authority import NotPermittedError
from graphs.rollout.workflow import WorkflowNotFoundError
from tools.errors import (
    ApplicationNotFoundError,
    InstanceNotFoundError,
    InvalidInstanceTypeError,
    InvalidRequestError,
    ProviderError,
    ResourceNotFoundError,
    UnsupportedOperationError,
)

log = logging.getLogger("optiinfra.service")
TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
    409: "Conflict", 413: "Request too large", 415: "Unsupported media type", 422: "Invalid request",
    429: "Too many requests", 500: "Internal error", 503: "Unavailable",
}  # fmt: skip


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    title = TITLES.get(status, "Error")
    body = {"type": f"https://optiinfra.dev/problems/{title.lower().replace(' ', '-')}", "title": title,
            "status": status, "detail": detail}  # fmt: skip
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


class Problem(Exception):
    """Raised by a route to answer with a problem document."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers


def install(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem(exc.status, exc.detail, exc.headers)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem(exc.status_code, str(exc.detail), dict(exc.headers or {}))

    async def on_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        malformed = [e for e in exc.errors() if e.get("type") == "json_invalid"]
        if malformed:
            return problem(
                400, f"malformed JSON: {malformed[0].get('ctx', {}).get('error', 'cannot be parsed')}"
            )
        problems = []
        for e in exc.errors()[:5]:
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            problems.append(f"{where}: {e.get('msg', 'invalid')}" if where else str(e.get("msg", "invalid")))
        return problem(422, "; ".join(problems) or "invalid request")

    async def on_unknown_workflow(request: Request, exc: Exception) -> JSONResponse:
        return problem(404, str(exc))

    async def on_not_permitted(request: Request, exc: Exception) -> JSONResponse:
        return problem(403, str(exc))

    async def on_cloud(request: Request, exc: Exception) -> JSONResponse:
        # The cloud behind the service failed the request: the client's request was fine (a 4xx would
        # blame it), the service itself is fine (a 500 would say it broke); the cloud is unavailable.
        assert isinstance(exc, ProviderError)
        if isinstance(exc, (InstanceNotFoundError, ApplicationNotFoundError, ResourceNotFoundError)):
            return problem(404, exc.message)
        if isinstance(exc, UnsupportedOperationError):  # this cloud's adapter cannot: not the client's fault
            return problem(501, exc.message)
        if isinstance(exc, InvalidRequestError | InvalidInstanceTypeError):
            return problem(422, exc.message)
        return problem(503, f"the cloud did not answer: {exc.message}", {"Retry-After": "5"})

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(500, "the service could not complete this request; it has been logged")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(WorkflowNotFoundError, on_unknown_workflow)
    app.add_exception_handler(NotPermittedError, on_not_permitted)
    app.add_exception_handler(ProviderError, on_cloud)
    app.add_exception_handler(Exception, on_unexpected)
