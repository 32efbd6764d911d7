"""API keys: made once, shown once, stored as a hash; a role says what its holder may do."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from graphs.database import Database
from graphs.rollout.authority import ROLES
from graphs.service_store import ApiKey, ServiceStore

PREFIX = "oik_"


class ApiKeyError(ValueError):
    """A key that cannot be made as asked (a taken name, an unknown role)."""


def key_hash(key: str) -> str:
    # A key is 32 random bytes: a plain SHA-256 cannot be brute-forced, and lookups stay one indexed read.
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(db: Database, name: str, role: str) -> str:
    """A new key for `name` with `role`; returns the key itself, which is never stored."""
    checked = next((r for r in ROLES if r == role), None)
    if checked is None:
        raise ApiKeyError(f"unknown role '{role}': expected one of {', '.join(ROLES)}")
    if not name or len(name) > 128:
        raise ApiKeyError("a key's name has 1 to 128 characters")
    key = PREFIX + secrets.token_urlsafe(32)
    stored = ApiKey(name=name, role=checked, key_hash=key_hash(key), created_at=datetime.now(UTC))
    if not await ServiceStore(db).add_key(stored):
        raise ApiKeyError(f"a key named '{name}' exists already")
    return key
