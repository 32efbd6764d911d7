"""API keys: made once, shown once, stored as a hash; a role says what its holder may do."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Literal, get_args

from graphs.database import ApiKey, Database, Role

ROLES: tuple[Role, ...] = get_args(Role)
Permission = Literal["read", "operate", "decide", "admin"]
# Viewers read; operators also trigger workflows and chat; approvers also decide; admins do everything.
GRANTS: dict[Role, frozenset[Permission]] = {
    "viewer": frozenset({"read"}),
    "operator": frozenset({"read", "operate"}),
    "approver": frozenset({"read", "decide"}),
    "admin": frozenset({"read", "operate", "decide", "admin"}),
}
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
    if not await db.add_key(stored):
        raise ApiKeyError(f"a key named '{name}' exists already")
    return key
