"""The service's settings: command-line options, or OPTIINFRA_* environment variables."""

from __future__ import annotations

import secrets
import socket

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from graphs.database_url import DEFAULT_DATABASE_URL
from graphs.rollout.approvals import ApprovalPolicy
from mock_cloud.clouds import DEFAULT_SEED, DEFAULT_SIZE


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPTIINFRA_", extra="ignore")

    db: str = Field(DEFAULT_DATABASE_URL, description="memory, sqlite:///PATH or postgresql://…")
    cloud: str = Field("sim", description="A simulator server URL, or `sim` for one in this process")
    seed: int = Field(DEFAULT_SEED, ge=0, description="The in-process simulator's seed")
    size: int = Field(DEFAULT_SIZE, ge=0, description="The in-process simulator's fleet size")
    llm: str | None = Field(None, description="ollama:MODEL, or none")
    ollama_host: str | None = Field(None, validation_alias="OLLAMA_HOST")
    llm_timeout: float = Field(20.0, gt=0)
    auth: bool = Field(True, description="False only for local use: every request acts as an admin")
    distinct_approver: bool = Field(False, description="A workflow's requester may not approve it")
    rate_per_minute: int = Field(600, gt=0, description="Requests per minute per key (per replica)")
    key_trust_seconds: float = Field(
        5.0, ge=0, description="How long a replica trusts a key it has checked: a revoked key stops working "
        "on every replica within this long (0: check the database on every request)",
    )  # fmt: skip
    max_body_bytes: int = Field(64 * 1024, gt=0, description="Larger request bodies are refused (413)")
    lease_seconds: float = Field(30.0, gt=0, description="How long a replica holds a workflow unrenewed")
    sweep_seconds: float = Field(10.0, gt=0, description="How often a replica looks for orphaned workflows")
    replica: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{secrets.token_hex(3)}",
        description="This process's name in leases and logs",
    )
    log_json: bool = Field(False, description="Log JSON lines instead of text")
    public_url: str | None = Field(
        None, description="Where people reach this service: links in notifications are made from it"
    )
    finops_seconds: float = Field(
        900.0, gt=0, description="How often one replica checks budgets and anomalies (deadlines and "
        "notification retries: every sweep)",
    )  # fmt: skip
    approval_policy: ApprovalPolicy = Field(
        default_factory=ApprovalPolicy,
        description="How many people approve a plan, of which role, and by when (JSON)",
    )
