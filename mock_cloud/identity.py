"""A managed identity endpoint for the simulator: what lets azure-identity's `DefaultAzureCredential` get a
token with no network beyond the simulator.

It speaks App Service's managed identity protocol (api-version 2019-08-01): `GET ?resource=…` with the
`X-IDENTITY-HEADER` secret, answered with `access_token`, `expires_on`, `resource` and `token_type`. Point a
process at it with `IDENTITY_ENDPOINT=<simulator>/msi/token` and any `IDENTITY_HEADER`. The simulator's ARM
dialect accepts any bearer token: it checks that one is sent, not who it names.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated

from fastapi import FastAPI, Header, Query
from fastapi.responses import JSONResponse

TOKEN_SECONDS = 3600


def create_identity_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/token")
    async def token(
        resource: Annotated[str, Query(min_length=1)],
        api_version: Annotated[str, Query(alias="api-version")],
        secret: Annotated[str | None, Header(alias="X-IDENTITY-HEADER")] = None,
    ) -> JSONResponse:
        if not secret:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "X-IDENTITY-HEADER is missing"},
                status_code=400,
            )
        # Tokens expire in wall time: the SDK caches them by its own clock, not the simulator's.
        expires = int(time.time()) + TOKEN_SECONDS
        return JSONResponse(
            {
                "access_token": f"simulated.{secrets.token_urlsafe(16)}",
                "expires_on": str(expires),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": "00000000-0000-0000-0000-000000000000",
            }
        )

    return app
