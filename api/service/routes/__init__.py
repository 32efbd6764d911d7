"""The HTTP API, one module per resource (as full-stack-fastapi-template lays it out); `ROUTERS` in the
order the OpenAPI document lists them."""

from __future__ import annotations

from api.service.routes import (
    anomalies,
    budgets,
    chat,
    costs,
    health,
    instances,
    notifications,
    recommendations,
    storage,
    workflows,
)

ROUTERS = (
    chat.router,
    workflows.router,
    instances.router,
    storage.router,
    costs.router,
    recommendations.router,
    budgets.router,
    anomalies.router,
    notifications.router,
    health.router,
)
