"""Token endpoints for the simulator: what lets each cloud's own credential chain get a token with no
network beyond the simulator. The dialects accept any bearer token: they check that one is sent (ARM), not
who it names.

- Azure: App Service's managed identity protocol (api-version 2019-08-01): `GET /msi/token?resource=…` with
  the `X-IDENTITY-HEADER` secret, answered with `access_token`, `expires_on`, `resource`, `token_type`. Point
  `DefaultAzureCredential` at it with `IDENTITY_ENDPOINT=<simulator>/msi/token` and any `IDENTITY_HEADER`.
- Google: OAuth 2.0's token endpoint (RFC 6749): `POST /oauth2/token` with a refresh token or a service
  account's JWT assertion (RFC 7523), answered with `access_token`, `expires_in`, `token_type`. Application
  Default Credentials use it from a service-account key file whose `token_uri` names it.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse

TOKEN_SECONDS = 3600
# A user's refresh token, and a service account's signed JWT (RFC 7523), whose signature is not checked.
GRANTS = ("refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer")


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


def create_google_token_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/token")
    async def token(request: Request) -> JSONResponse:
        form = parse_qs((await request.body()).decode())  # application/x-www-form-urlencoded, as RFC 6749
        grant = (form.get("grant_type") or [""])[0]
        proof = form.get("refresh_token") if grant == "refresh_token" else form.get("assertion")
        if grant not in GRANTS or not proof:
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"the simulator grants {' and '.join(GRANTS)}",
                },
                status_code=400,
            )
        return JSONResponse(
            {
                "access_token": f"simulated.{secrets.token_urlsafe(16)}",
                "expires_in": TOKEN_SECONDS,
                "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/cloud-platform",
            }
        )

    return app
